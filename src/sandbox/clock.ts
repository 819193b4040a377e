import { parseGmt8 } from '../time';
import { badRequest } from './errors';

/** An instant given as epoch milliseconds, a `Date`, a GMT+8 `yyyy-MM-dd HH:mm:ss` or ISO 8601. */
export type InstantInput = number | Date | string;

/** Options of {@link SandboxClock}. */
export interface SandboxClockOptions {
  /** Initial time; default: the host's time. */
  start?: InstantInput;
  /** When true the clock stands still between `set`/`advance` calls (deterministic tests). */
  frozen?: boolean;
  /** Source of real time; default `Date.now`. */
  source?: () => number;
}

/**
 * The sandbox's notion of "now": MAPI timestamps are checked against it, trades are stamped
 * with it and the GMT+8 transaction day (CANCEL) and the refund period are measured with it.
 *
 * It runs with the host clock plus an offset, so tests can jump across GMT+8 midnight or past
 * the refund period without waiting. It does not drive the notification timers: those run in
 * real time, scaled by the sandbox's `timeScale`.
 */
export class SandboxClock {
  private readonly source: () => number;
  private offsetMs = 0;
  private frozenAt: number | undefined;

  constructor(options: SandboxClockOptions = {}) {
    this.source = options.source ?? Date.now;
    if (options.start !== undefined) this.set(options.start);
    if (options.frozen) this.frozenAt = this.now();
  }

  /** Current sandbox time in epoch milliseconds. */
  now(): number {
    return this.frozenAt ?? this.source() + this.offsetMs;
  }

  /** Moves the clock to `instant` (it keeps running from there unless frozen). */
  set(instant: InstantInput): void {
    const target = toEpochMs(instant);
    if (this.frozenAt !== undefined) this.frozenAt = target;
    else this.offsetMs = target - this.source();
  }

  /** Moves the clock forward (or backward with a negative value) by `ms`. */
  advance(ms: number): void {
    if (!Number.isFinite(ms)) throw badRequest(`cannot advance the clock by ${String(ms)}`);
    this.set(this.now() + ms);
  }

  /** Stops the clock at its current value; `set`/`advance` still move it. */
  freeze(): void {
    this.frozenAt = this.now();
  }

  /** Lets the clock run again from its current value. */
  unfreeze(): void {
    if (this.frozenAt === undefined) return;
    this.offsetMs = this.frozenAt - this.source();
    this.frozenAt = undefined;
  }

  /** True while the clock stands still. */
  get frozen(): boolean {
    return this.frozenAt !== undefined;
  }
}

const GMT8_SPACED = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** Converts any {@link InstantInput} to epoch milliseconds; a bare wall time is read as GMT+8. */
export function toEpochMs(instant: InstantInput): number {
  if (typeof instant === 'number') {
    if (!Number.isFinite(instant)) throw badRequest(`not an instant: ${instant}`);
    return instant;
  }
  if (instant instanceof Date) return toEpochMs(instant.getTime());
  if (GMT8_SPACED.test(instant)) {
    try {
      return parseGmt8(instant);
    } catch (e) {
      throw badRequest(`not a GMT+8 time: ${JSON.stringify(instant)}`, e);
    }
  }
  if (/^\d+$/.test(instant)) return Number(instant);
  const parsed = Date.parse(instant);
  if (Number.isNaN(parsed)) throw badRequest(`not an instant: ${JSON.stringify(instant)}`);
  return parsed;
}
