import type { Charset } from '../../alipay/charset';
import type { Signer } from '../../alipay/signing';
import { renderGatewayResponse } from '../../alipay/xml';

/** A rendered gateway answer, ready to write. */
export interface RenderedAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
  /** Sandbox explanation for people, sent as `X-Sandbox-Reason` (MAPI answers have no room for it). */
  readonly reason?: string;
  /** One-line summary for the log. */
  readonly summary: string;
}

const sorted = (fields: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** `is_success=T` with a signed business node (fields in name order, like the MAPI examples). */
export function businessAnswer(
  request: Readonly<Record<string, string>>,
  node: string,
  fields: Record<string, string>,
  signer: Signer | undefined,
  charset: Charset,
  reason?: string,
): RenderedAnswer {
  const body = renderGatewayResponse({
    request,
    business: sorted(fields),
    businessNode: node,
    signer,
    charset,
  });
  const result = fields.result_code
    ? ` ${fields.result_code}${fields.error ? ` ${fields.error}` : ''}`
    : ' OK';
  return {
    status: 200,
    contentType: `text/xml; charset=${charset}`,
    body,
    reason,
    summary: `T${result}`,
  };
}

/** `is_success=F` with a top-level `<error>`, signed over `error=<code>` when a key is known [R]. */
export function rejectionAnswer(
  error: string,
  signer: Signer | undefined,
  charset: Charset,
  reason: string,
): RenderedAnswer {
  const body = renderGatewayResponse({ isSuccess: false, error, signer, charset });
  return {
    status: 200,
    contentType: `text/xml; charset=${charset}`,
    body,
    reason,
    summary: `F ${error}`,
  };
}

/** `notify_verify`'s plain-text `true` / `false` (MAPI.md §12.4). */
export function textAnswer(text: string, reason?: string): RenderedAnswer {
  return {
    status: 200,
    contentType: 'text/plain; charset=UTF-8',
    body: Buffer.from(text, 'utf8'),
    reason,
    summary: text,
  };
}

/** A raw HTTP answer (fault injection: 5xx pages, non-XML bodies). */
export function rawAnswer(
  status: number,
  body: string,
  contentType: string,
  summary: string,
): RenderedAnswer {
  return { status, contentType, body: Buffer.from(body, 'utf8'), summary };
}

/** Header-safe version of a reason (printable ASCII, bounded). */
export function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
}
