/**
 * The root of the engine's closed error hierarchy.
 *
 * Every error the engine raises on purpose carries a stable `code` (for logs, HTTP bodies and
 * Temporal `ApplicationFailure.type`) and says whether repeating the same call may succeed.
 * Pure code: usable in workflows, activities and the HTTP layer alike.
 */
export abstract class EngineError extends Error {
  /** Stable machine-readable code, e.g. `INVALID_AMOUNT`. */
  abstract readonly code: string;
  /** True when the same call, repeated later with the same inputs, may succeed. */
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
