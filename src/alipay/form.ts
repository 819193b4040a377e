import { isAscii } from 'node:buffer';
import { decode, encode, type Charset } from './charset';
import { CharsetError, MalformedFormError } from './errors';

/**
 * `application/x-www-form-urlencoded` in a MAPI charset: the request body / query string we
 * send, the notification body Alipay POSTs, and (in the sandbox) the requests it receives.
 *
 * Encoding follows the WHATWG / Java `URLEncoder` rules (letters, digits and `*-._` kept, space
 * as `+`, every other byte of the charset encoding as upper-case `%XX`). Decoding works on the
 * raw bytes so that percent-escapes are decoded in the declared charset, not guessed.
 */

/** Fields of a decoded form, in body order. A null-prototype record: any name is a plain key. */
export type FormFields = Record<string, string>;

const HEX = '0123456789ABCDEF';

function isUnreserved(b: number): boolean {
  return (
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    b === 0x2a ||
    b === 0x2d ||
    b === 0x2e ||
    b === 0x5f
  );
}

const NEEDS_UTF8_FIXUP = /[!'()~]|%20/g;
const UTF8_FIXUP: Record<string, string> = {
  '!': '%21',
  "'": '%27',
  '(': '%28',
  ')': '%29',
  '~': '%7E',
  '%20': '+',
};

/** Form-encodes one name or value. `spaceAsPlus: false` gives `%20` (for URL query strings). */
export function formEncodeComponent(value: string, charset: Charset, spaceAsPlus = true): string {
  if (charset === 'UTF-8') {
    let out: string;
    try {
      out = encodeURIComponent(value);
    } catch {
      throw new CharsetError('text contains a lone UTF-16 surrogate');
    }
    return out.replace(NEEDS_UTF8_FIXUP, (m) =>
      m === '%20' && !spaceAsPlus ? m : (UTF8_FIXUP[m] as string),
    );
  }
  const bytes = encode(value, charset);
  let out = '';
  for (const b of bytes) {
    if (isUnreserved(b)) out += String.fromCharCode(b);
    else if (b === 0x20 && spaceAsPlus) out += '+';
    else out += `%${HEX[b >> 4] as string}${HEX[b & 15] as string}`;
  }
  return out;
}

/**
 * Form-encodes `name=value` pairs in the given order, skipping undefined/null values (empty
 * strings are kept: whether to send them is the caller's decision).
 */
export function encodeForm(
  pairs: Iterable<readonly [string, string | undefined | null]>,
  charset: Charset,
  spaceAsPlus = true,
): string {
  let out = '';
  for (const [name, value] of pairs) {
    if (value === undefined || value === null) continue;
    if (out !== '') out += '&';
    out += `${formEncodeComponent(name, charset, spaceAsPlus)}=${formEncodeComponent(value, charset, spaceAsPlus)}`;
  }
  return out;
}

function hexValue(b: number | undefined): number {
  if (b === undefined || Number.isNaN(b)) return -1;
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

function decodeComponent(buf: Buffer, start: number, end: number, charset: Charset): string {
  let plain = true;
  for (let i = start; i < end; i++) {
    const b = buf[i] as number;
    if (b === 0x25 || b === 0x2b || b > 0x7f) {
      plain = false;
      break;
    }
  }
  if (plain) return buf.toString('latin1', start, end);
  const out = Buffer.allocUnsafe(end - start);
  let n = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i] as number;
    if (b === 0x2b) {
      out[n++] = 0x20;
    } else if (b === 0x25) {
      const hi = i + 2 < end ? hexValue(buf[i + 1]) : -1;
      const lo = i + 2 < end ? hexValue(buf[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        throw new MalformedFormError('MALFORMED_ENCODING', `bad percent-escape at byte ${i}`);
      }
      out[n++] = (hi << 4) | lo;
      i += 2;
    } else {
      out[n++] = b;
    }
  }
  try {
    return decode(out.subarray(0, n), charset);
  } catch (err) {
    if (err instanceof CharsetError) {
      throw new MalformedFormError('CHARSET', `${err.message} (declared ${charset})`);
    }
    throw err;
  }
}

/** Options of {@link parseForm}. */
export interface ParseFormOptions {
  /** Refuse bodies with more fields than this (default 200). */
  readonly maxFields?: number;
}

const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
const PLUS = /\+/g;

/**
 * Decodes one component of an all-ASCII UTF-8 body. Escapes of ASCII bytes (`%3A`, `%2F`: the
 * usual case) are decoded inline; the first escape of a non-ASCII byte hands the component to
 * the native strict decoder.
 */
function decodeAsciiUtf8(text: string): string {
  const spaced = text.indexOf('+') === -1 ? text : text.replace(PLUS, ' ');
  let pct = spaced.indexOf('%');
  if (pct === -1) return spaced;
  let out = '';
  let from = 0;
  while (pct !== -1) {
    const hi = hexValue(spaced.charCodeAt(pct + 1));
    const lo = hexValue(spaced.charCodeAt(pct + 2));
    if (hi < 0 || lo < 0) throw new MalformedFormError('MALFORMED_ENCODING', 'bad percent-escape');
    if (hi >= 8) return decodeNonAsciiUtf8(spaced);
    out += spaced.slice(from, pct) + String.fromCharCode((hi << 4) | lo);
    from = pct + 3;
    pct = spaced.indexOf('%', from);
  }
  return out + spaced.slice(from);
}

function decodeNonAsciiUtf8(spaced: string): string {
  try {
    return decodeURIComponent(spaced);
  } catch {
    if (BAD_ESCAPE.test(spaced))
      throw new MalformedFormError('MALFORMED_ENCODING', 'bad percent-escape');
    throw new MalformedFormError('CHARSET', 'percent-escapes are not valid UTF-8 (declared UTF-8)');
  }
}

/**
 * Decodes a form body from its RAW bytes in `charset`. Every field is kept (unknown ones too);
 * a field name that occurs twice is refused ({@link MalformedFormError} `DUPLICATE_FIELD`)
 * because a signature cannot say which occurrence it covers. Empty segments (`a=1&&b=2`, a
 * trailing `&`) are skipped; a segment without `=` is a field with an empty value.
 */
export function parseForm(
  body: Uint8Array,
  charset: Charset,
  options: ParseFormOptions = {},
): FormFields {
  const buf = Buffer.isBuffer(body)
    ? body
    : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const maxFields = options.maxFields ?? 200;
  const fields: FormFields = {};
  // One latin1 view of the bytes (1 char = 1 byte) to find separators; UTF-8 bodies that are
  // pure ASCII (the normal, fully percent-encoded case) decode with the native decoder.
  const text = buf.toString('latin1');
  const fast = charset === 'UTF-8' && isAscii(buf);
  let count = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('&', start);
    if (end === -1) end = text.length;
    if (end > start) {
      let eq = text.indexOf('=', start);
      if (eq === -1 || eq > end) eq = end;
      if (eq === start)
        throw new MalformedFormError('MALFORMED_ENCODING', `field without a name at byte ${start}`);
      const name = fast
        ? decodeAsciiUtf8(text.slice(start, eq))
        : decodeComponent(buf, start, eq, charset);
      const value =
        eq >= end
          ? ''
          : fast
            ? decodeAsciiUtf8(text.slice(eq + 1, end))
            : decodeComponent(buf, eq + 1, end, charset);
      if (Object.hasOwn(fields, name)) {
        throw new MalformedFormError(
          'DUPLICATE_FIELD',
          `field ${JSON.stringify(name.slice(0, 64))} occurs twice`,
          name,
        );
      }
      if (++count > maxFields)
        throw new MalformedFormError('TOO_MANY_FIELDS', `more than ${maxFields} fields`);
      if (name === '__proto__') {
        Object.defineProperty(fields, name, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        fields[name] = value;
      }
    }
    start = end + 1;
  }
  return Object.setPrototypeOf(fields, null) as FormFields;
}
