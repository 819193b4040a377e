import { EngineError } from '../errors';

/**
 * Errors raised by the sandbox's own surfaces (the customer and control endpoints, options).
 *
 * Gateway rejections are not errors of this kind: they are MAPI answers (`is_success=F` or
 * `result_code=FAIL`) and live in `gateway/outcome.ts`.
 */
export type SandboxErrorCode =
  | 'SANDBOX_BAD_REQUEST'
  | 'SANDBOX_NOT_FOUND'
  | 'SANDBOX_CODE_NOT_PAYABLE'
  | 'SANDBOX_TOO_LARGE'
  | 'SANDBOX_BAD_CONFIG';

/** A refused sandbox control call; `httpStatus` is what the control endpoint answers. */
export class SandboxError extends EngineError {
  readonly retryable = false;
  constructor(
    readonly code: SandboxErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** HTTP status of the control endpoint's answer for this error. */
  get httpStatus(): number {
    switch (this.code) {
      case 'SANDBOX_NOT_FOUND':
        return 404;
      case 'SANDBOX_CODE_NOT_PAYABLE':
        return 409;
      case 'SANDBOX_TOO_LARGE':
        return 413;
      default:
        return 400;
    }
  }
}

/** Shorthand for a 400 with a readable reason. */
export function badRequest(message: string, cause?: unknown): SandboxError {
  return new SandboxError(
    'SANDBOX_BAD_REQUEST',
    message,
    cause === undefined ? undefined : { cause },
  );
}
