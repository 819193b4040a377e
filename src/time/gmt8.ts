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

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function fromWallClock(input: string, w: WallClock): number {
  // Plain range checks instead of a Date round trip: rejects 2024-02-30 and 24:00:00, and stays
  // cheap on the notification hot path (three timestamps per notification).
  const monthDays = w.month === 2 && isLeap(w.year) ? 29 : MONTH_DAYS[w.month - 1];
  if (
    monthDays === undefined ||
    w.day < 1 ||
    w.day > monthDays ||
    w.hour > 23 ||
    w.minute > 59 ||
    w.second > 59
  ) {
    throw new InvalidTimestampError(input);
  }
  const seconds =
    ((daysFromCivil(w.year, w.month, w.day) * 24 + w.hour) * 60 + w.minute) * 60 + w.second;
  return seconds * 1000 - GMT8_OFFSET_MS;
}

/** `yyyy-MM-dd HH:mm:ss` in GMT+8: the `timestamp` of the QR-code services, `notify_time`, `gmt_*`. */
export function formatGmt8(epochMs: number): string {
  const w = wallClock(epochMs);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
}

// Field offsets of `yyyy-MM-dd HH:mm:ss` and `yyyyMMddHHmmss`; separators are checked apart.
const SPACED = { length: 19, at: [0, 5, 8, 11, 14, 17] } as const;
const SPACED_SEPARATORS: readonly (readonly [number, number])[] = [
  [4, 0x2d],
  [7, 0x2d],
  [10, 0x20],
  [13, 0x3a],
  [16, 0x3a],
];
const COMPACT = { length: 14, at: [0, 4, 6, 8, 10, 12] } as const;

/** Digits `input[from, from + n)` as a number; -1 when any is not an ASCII digit. */
function digits(input: string, from: number, n: number): number {
  let value = 0;
  for (let i = from; i < from + n; i++) {
    const d = input.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * Reads the six fields by position (no RegExp match array, no intermediate strings: three of
 * these run per notification on the receiver's hot path).
 */
function parseWith(format: typeof SPACED | typeof COMPACT, input: string): number {
  if (input.length !== format.length) throw new InvalidTimestampError(input);
  if (format === SPACED) {
    for (const [i, c] of SPACED_SEPARATORS)
      if (input.charCodeAt(i) !== c) throw new InvalidTimestampError(input);
  }
  const [y, mo, d, h, mi, s] = format.at;
  const year = digits(input, y, 4);
  const month = digits(input, mo, 2);
  const day = digits(input, d, 2);
  const hour = digits(input, h, 2);
  const minute = digits(input, mi, 2);
  const second = digits(input, s, 2);
  if ((year | month | day | hour | minute | second) < 0) throw new InvalidTimestampError(input);
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
