import { EngineError } from '../errors';

/**
 * GMT+8 (Beijing time) arithmetic for MAPI timestamps and the CANCEL "transaction day".
 *
 * China has had no daylight-saving time since 1991, so the offset is a constant and everything
 * here is plain integer arithmetic on epoch milliseconds: deterministic and safe inside workflow
 * code (give it `Date.now()` from the workflow clock, never the host's).
 */
export const GMT8_OFFSET_MS = 8 * 60 * 60 * 1000;
export const DAY_MS = 24 * 60 * 60 * 1000;

/** A MAPI timestamp that does not parse. */
export class InvalidTimestampError extends EngineError {
  readonly code = 'INVALID_TIMESTAMP';
  readonly retryable = false;
  constructor(readonly input: string) {
    super(`invalid GMT+8 timestamp ${JSON.stringify(input)}`);
  }
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(epochMs: number): WallClock {
  // Shifting by the offset and reading the UTC fields gives Beijing wall-clock time.
  const d = new Date(epochMs + GMT8_OFFSET_MS);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

function fromWallClock(input: string, w: WallClock): number {
  const shifted = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  const back = wallClock(shifted - GMT8_OFFSET_MS);
  // Date.UTC silently rolls 2024-02-30 over to March; a round trip catches impossible dates.
  if (
    Number.isNaN(shifted) ||
    back.year !== w.year ||
    back.month !== w.month ||
    back.day !== w.day ||
    back.hour !== w.hour ||
    back.minute !== w.minute ||
    back.second !== w.second
  ) {
    throw new InvalidTimestampError(input);
  }
  return shifted - GMT8_OFFSET_MS;
}

/** `yyyy-MM-dd HH:mm:ss` in GMT+8: the `timestamp` of the QR-code services, `notify_time`, `gmt_*`. */
export function formatGmt8(epochMs: number): string {
  const w = wallClock(epochMs);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
}

const SPACED = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const COMPACT = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;

function parseWith(pattern: RegExp, input: string): number {
  const m = pattern.exec(input);
  if (!m) throw new InvalidTimestampError(input);
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return fromWallClock(input, { year, month, day, hour, minute, second });
}

/** Parses `yyyy-MM-dd HH:mm:ss` (GMT+8) into epoch milliseconds. */
export function parseGmt8(input: string): number {
  return parseWith(SPACED, input);
}

/** Parses QUERY's `alipay_pay_time`, `YYYYMMDDHHMMSS` (GMT+8), into epoch milliseconds. */
export function parseCompactGmt8(input: string): number {
  return parseWith(COMPACT, input);
}

/** `YYYY-MM-DD` of the GMT+8 calendar day containing the instant. */
export function gmt8Date(epochMs: number): string {
  return formatGmt8(epochMs).slice(0, 10);
}

/**
 * The instant the GMT+8 transaction day containing `epochMs` ends (the next 00:00 Beijing time),
 * in epoch milliseconds. CANCEL is allowed strictly before this instant; REFUND after it.
 */
export function endOfGmt8Day(epochMs: number): number {
  const shifted = epochMs + GMT8_OFFSET_MS;
  return shifted - mod(shifted, DAY_MS) + DAY_MS - GMT8_OFFSET_MS;
}

/** True when both instants fall on the same GMT+8 calendar day. */
export function sameGmt8Day(a: number, b: number): boolean {
  return endOfGmt8Day(a) === endOfGmt8Day(b);
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
