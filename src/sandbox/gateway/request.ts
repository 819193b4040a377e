import { normalizeCharset, type Charset } from '../../alipay/charset';
import { parseForm } from '../../alipay/form';
import { GatewayRejection, MapiError } from '../refusals';

/** A `gateway.do` call, decoded: the logical parameter set, wherever each one travelled. */
export interface GatewayRequest {
  readonly method: 'GET' | 'POST';
  readonly charset: Charset;
  /** Query parameters and (POST) body parameters, merged. */
  readonly params: Readonly<Record<string, string>>;
}

const CHARSET_IN_TEXT = /(?:^|&)_input_charset=([^&]*)/;

/** Reads `_input_charset` from raw form text without decoding it (ASCII in every MAPI charset). */
function charsetLabel(text: string): string | undefined {
  const m = CHARSET_IN_TEXT.exec(text);
  if (!m) return undefined;
  try {
    return decodeURIComponent((m[1] as string).replace(/\+/g, ' '));
  } catch {
    return m[1];
  }
}

/**
 * Decodes a gateway call. The charset comes from `_input_charset` in the URL query (MAPI.md
 * §2.2 requires it there for POST); a POST that carries it only in the body is accepted too,
 * and without any the gateway reads UTF-8 [R]. A parameter sent in both places with different
 * values, or twice in one place, is an `ILLEGAL_ARGUMENT` [R].
 */
export function parseGatewayRequest(
  method: 'GET' | 'POST',
  rawQuery: string,
  body: Buffer,
): GatewayRequest {
  const label =
    charsetLabel(rawQuery) ??
    (method === 'POST' ? charsetLabel(body.toString('latin1')) : undefined);
  let charset: Charset;
  try {
    charset = label === undefined || label === '' ? 'UTF-8' : normalizeCharset(label);
  } catch {
    throw new GatewayRejection(
      MapiError.ILLEGAL_CHARSET,
      `unsupported _input_charset ${JSON.stringify(label)}`,
    );
  }
  const params: Record<string, string> = {};
  const add = (bytes: Buffer): void => {
    let fields: Record<string, string>;
    try {
      fields = parseForm(bytes, charset);
    } catch (e) {
      throw new GatewayRejection(
        MapiError.ILLEGAL_ARGUMENT,
        `cannot decode the parameters as ${charset}: ${(e as Error).message}`,
      );
    }
    for (const [key, value] of Object.entries(fields)) {
      const known = params[key];
      if (known !== undefined && known !== value) {
        throw new GatewayRejection(
          MapiError.ILLEGAL_ARGUMENT,
          `parameter ${key} given twice with different values`,
        );
      }
      params[key] = value;
    }
  };
  add(Buffer.from(rawQuery, 'latin1'));
  if (method === 'POST') add(body);
  return { method, charset, params };
}
