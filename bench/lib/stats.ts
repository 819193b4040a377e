/** Latency and throughput summaries: percentiles of one round, medians across rounds. */

export interface RoundResult {
  /** Completed operations. */
  readonly completed: number;
  /** Failed operations (each counted, never retried). */
  readonly failed: number;
  /** Wall time of the round, first start to last completion, in ms. */
  readonly elapsedMs: number;
  /** Latency of each completed operation, in ms. */
  readonly latenciesMs: readonly number[];
}

export interface RoundSummary {
  readonly perSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly completed: number;
  readonly failed: number;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** The median (mean of the two middle values for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function summarizeRound(r: RoundResult): RoundSummary {
  return {
    perSecond: r.elapsedMs > 0 ? (r.completed / r.elapsedMs) * 1000 : 0,
    p50: percentile(r.latenciesMs, 50),
    p95: percentile(r.latenciesMs, 95),
    p99: percentile(r.latenciesMs, 99),
    completed: r.completed,
    failed: r.failed,
  };
}

/** Median of each figure across rounds (the "medians of rounds"). */
export function medianOfRounds(rounds: readonly RoundSummary[]): RoundSummary {
  const m = (f: (s: RoundSummary) => number) => median(rounds.map(f));
  return {
    perSecond: m((s) => s.perSecond),
    p50: m((s) => s.p50),
    p95: m((s) => s.p95),
    p99: m((s) => s.p99),
    completed: rounds.reduce((n, s) => n + s.completed, 0),
    failed: rounds.reduce((n, s) => n + s.failed, 0),
  };
}

/** Rounds a figure for JSON and tables: 3 significant digits, at most 3 decimals. */
export function round3(x: number): number {
  if (!Number.isFinite(x)) return x;
  if (Math.abs(x) >= 100) return Math.round(x * 10) / 10;
  return Math.round(x * 1000) / 1000;
}
