import iconv from 'iconv-lite';
import { CharsetError } from './errors';
import { JAVA_GBK_DECODE_OVERRIDES, JAVA_GBK_ENCODE_OVERRIDES } from './gbk-java-table';

/**
 * GBK as Java speaks it. Alipay's gateway runs on Java and hashes `getBytes("GBK")`; Java's GBK
 * and iconv-lite's `gbk` differ on a few hundred code points (`€` is A2 E3 in Java, 80 in
 * iconv-lite; Java has no mapping for the CJK radicals iconv-lite puts at FE50…, and decodes those
 * bytes to private-use characters). iconv-lite does the bulk work; the differences, generated
 * from Java by scripts/gbk-table.ts, are applied on top. Checked against Java's full table
 * (test/fixtures/java-gbk.txt) by test/unit/alipay/gbk-java.test.ts.
 */

/** Java's bytes for the code points where iconv-lite differs (0x3F: Java cannot map it). */
const ENCODE_OVERRIDE = new Map<number, number>(JAVA_GBK_ENCODE_OVERRIDES);
/** Java's code point (-1: malformed) for the byte sequences where iconv-lite differs. */
const DECODE_OVERRIDE = new Map<number, number>(JAVA_GBK_DECODE_OVERRIDES);
/** One flag per UTF-16 unit / byte sequence: the common case is a single typed-array read. */
const ENCODE_FLAG = new Uint8Array(0x10000);
const DECODE_FLAG = new Uint8Array(0x10000);
for (const [cp] of JAVA_GBK_ENCODE_OVERRIDES) ENCODE_FLAG[cp] = 1;
for (const [seq] of JAVA_GBK_DECODE_OVERRIDES) DECODE_FLAG[seq] = 1;

function bytesOf(value: number): Buffer {
  return value < 0x100 ? Buffer.of(value) : Buffer.of(value >> 8, value & 0xff);
}

/**
 * Java's `String.getBytes("GBK")`: every character GBK cannot map (emoji, lone surrogates,
 * characters outside GBK) becomes one `?` (0x3F), a surrogate pair included, exactly as Java
 * writes (and signs) it.
 */
export function encodeGbk(str: string): Buffer {
  const n = str.length;
  let i = 0;
  while (i < n && ENCODE_FLAG[str.charCodeAt(i)] !== 1) i++;
  if (i === n) return iconv.encode(str, 'gbk');
  // Overridden characters are BMP non-surrogates, so cutting around them never splits a pair.
  const parts: Buffer[] = [];
  let from = 0;
  for (; i < n; i++) {
    const c = str.charCodeAt(i);
    if (ENCODE_FLAG[c] !== 1) continue;
    if (i > from) parts.push(iconv.encode(str.slice(from, i), 'gbk'));
    parts.push(bytesOf(ENCODE_OVERRIDE.get(c) as number));
    from = i + 1;
  }
  if (from < n) parts.push(iconv.encode(str.slice(from), 'gbk'));
  return Buffer.concat(parts);
}

function invalid(): never {
  throw new CharsetError('bytes are not valid GBK');
}

function decodeRun(buf: Buffer, from: number, to: number): string {
  const text = iconv.decode(buf.subarray(from, to), 'gbk');
  if (text.includes('\ufffd')) invalid();
  return text;
}

/**
 * Decodes GBK bytes as Java does, strictly: anything Java would decode to U+FFFD (a lone lead
 * byte, a trail byte out of range, 0x80, an unmapped pair) is a {@link CharsetError}.
 */
export function decodeGbk(bytes: Uint8Array): string {
  const buf = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = buf.length;
  // Walk the sequences as Java's decoder does (ASCII byte, or lead 81-FE + trail 40-7E / 80-FE):
  // that also keeps iconv-lite from reading GB18030 four-byte forms that Java's GBK refuses.
  let special = -1;
  for (let i = 0; i < n;) {
    const b = buf[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    // No single byte above 7F decodes in Java's GBK (iconv-lite reads 80 as `€`).
    if (b === 0x80 || b === 0xff) invalid();
    const t = i + 1 < n ? (buf[i + 1] as number) : -1;
    if (t < 0x40 || t === 0x7f || t === 0xff) invalid();
    if (DECODE_FLAG[(b << 8) | t] === 1 && special < 0) special = i;
    i += 2;
  }
  if (special < 0) return decodeRun(buf, 0, n);
  let out = '';
  let from = 0;
  for (let i = special; i < n;) {
    const b = buf[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    const seq = (b << 8) | (buf[i + 1] as number);
    if (DECODE_FLAG[seq] === 1) {
      const cp = DECODE_OVERRIDE.get(seq) as number;
      if (cp < 0) invalid();
      if (i > from) out += decodeRun(buf, from, i);
      out += String.fromCharCode(cp);
      from = i + 2;
    }
    i += 2;
  }
  if (from < n) out += decodeRun(buf, from, n);
  return out;
}

/** True when Java's GBK maps every character of `str` (nothing would become `?`). */
export function isGbkRepresentable(str: string): boolean {
  const bytes = encodeGbk(str);
  let marks = 0;
  for (const b of bytes) if (b === 0x3f) marks++;
  let expected = 0;
  for (let i = str.indexOf('?'); i !== -1; i = str.indexOf('?', i + 1)) expected++;
  return marks === expected;
}
