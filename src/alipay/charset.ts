import { CharsetError } from './errors';
import { decodeGbk, encodeGbk, isGbkRepresentable } from './gbk';

/**
 * The two `_input_charset` values the engine speaks. MAPI pages also list `GB2312`; it is
 * accepted on input as an alias of GBK (GBK is a strict superset of GB2312), never emitted.
 */
export type Charset = 'UTF-8' | 'GBK';

/** The charset the engine sends unless configured otherwise (MAPI.md §3: "always send UTF-8"). */
export const DEFAULT_CHARSET: Charset = 'UTF-8';

/**
 * Normalises a charset label from config, a `Content-Type` header or an XML declaration.
 * Case-insensitive; `UTF8` / `utf-8` -> `UTF-8`, `GBK` / `GB2312` / `CP936` -> `GBK`.
 * Anything else is a {@link CharsetError}: guessing a charset would silently break signatures.
 */
export function normalizeCharset(label: string): Charset {
  switch (label.trim().toUpperCase()) {
    case 'UTF-8':
    case 'UTF8':
      return 'UTF-8';
    case 'GBK':
    case 'GB2312':
    case 'CP936':
    case 'X-GBK':
      return 'GBK';
    default:
      throw new CharsetError(`unsupported charset ${JSON.stringify(label.slice(0, 40))}`);
  }
}

/**
 * Encodes text to bytes in `charset`. GBK is Java's GBK (the bytes Alipay's gateway hashes): a
 * character GBK cannot map becomes `?`, as `String.getBytes("GBK")` writes and signs it. Request
 * builders refuse such text before this point (see {@link isRepresentable}).
 */
export function encode(str: string, charset: Charset): Buffer {
  return charset === 'UTF-8' ? Buffer.from(str, 'utf8') : encodeGbk(str);
}

// With the `u` flag a surrogate pair is one code point, so only lone surrogates match.
const LONE_SURROGATE = /\p{Cs}/u;

/** True when `charset` carries `str` unchanged (always for UTF-8 without lone surrogates). */
export function isRepresentable(str: string, charset: Charset): boolean {
  return charset === 'UTF-8' ? !LONE_SURROGATE.test(str) : isGbkRepresentable(str);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes bytes in `charset`, strictly: malformed input (e.g. GBK bytes read as UTF-8) is a
 * {@link CharsetError}, not replacement characters that would only surface later as a
 * signature mismatch. GBK is decoded as Java decodes it.
 */
export function decode(buf: Uint8Array, charset: Charset): string {
  if (charset === 'UTF-8') {
    try {
      return strictUtf8.decode(buf);
    } catch {
      throw new CharsetError('bytes are not valid UTF-8');
    }
  }
  return decodeGbk(buf);
}

/**
 * The `charset` parameter of a `Content-Type` header (`text/xml; charset=GBK`), normalised, or
 * undefined when the header has none.
 */
export function charsetFromContentType(contentType: string | undefined): Charset | undefined {
  if (!contentType) return undefined;
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  return match ? normalizeCharset(match[1] as string) : undefined;
}

/**
 * The `encoding` of an XML declaration at the start of `buf` (`<?xml version="1.0"
 * encoding="GBK"?>`), normalised, or undefined when there is none. The declaration is ASCII in
 * both supported charsets, so it can be read before decoding.
 */
export function charsetFromXmlDeclaration(buf: Uint8Array): Charset | undefined {
  const head = Buffer.from(buf.buffer, buf.byteOffset, Math.min(buf.byteLength, 200)).toString(
    'latin1',
  );
  const match = /^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([^"']+)["']/.exec(head);
  return match ? normalizeCharset(match[1] as string) : undefined;
}
