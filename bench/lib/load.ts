import type { RoundResult } from './stats';

export interface ClosedLoopOptions {
  /** Operations in flight at once (each "client" waits for its answer before the next). */
  readonly concurrency: number;
  /** Stop starting new operations after this long (ms); in-flight ones are awaited. */
  readonly durationMs?: number;
  /** Stop after this many operations were started. */
  readonly count?: number;
}

/**
 * A closed-loop load round: `concurrency` clients, each starting the next operation as soon as
 * its last one answered, bounded by time and/or count. `op(i)` returns false when it has no more
 * work (e.g. the pool of prepared trades ran out): that client stops. Failures are counted, not
 * retried, and never end the round.
 */
export async function closedLoop(
  options: ClosedLoopOptions,
  op: (i: number) => Promise<boolean | void>,
  onError?: (err: unknown) => void,
): Promise<RoundResult> {
  const latencies: number[] = [];
  let failed = 0;
  let started = 0;
  let last = 0;
  const t0 = performance.now();
  const deadline = options.durationMs !== undefined ? t0 + options.durationMs : Infinity;
  const limit = options.count ?? Infinity;
  const client = async () => {
    while (started < limit && performance.now() < deadline) {
      const i = started++;
      const t = performance.now();
      try {
        const more = await op(i);
        if (more === false) {
          started--;
          return;
        }
        latencies.push(performance.now() - t);
      } catch (err) {
        failed++;
        onError?.(err);
      }
      last = performance.now();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  return {
    completed: latencies.length,
    failed,
    elapsedMs: Math.max(0, last - t0),
    latenciesMs: latencies,
  };
}

/** Runs `fn` over `items` with at most `concurrency` at once (set-up work, not measured). */
export async function forEachLimited<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
