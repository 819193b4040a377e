import { Agent, type Dispatcher } from 'undici';
import type { Charset } from './charset';
import {
  AlipayGatewayError,
  AlipayResponseError,
  AlipayTimeoutError,
  AlipayTransportError,
  type AlipayErrorContext,
} from './errors';
import { encodeForm } from './form';
import type { SignedRequest } from './requests';
import { isMoneyMoving } from './services';

/**
 * HTTP to `gateway.do` with undici: one pooled keep-alive dispatcher, connect and read
 * timeouts, a response size cap, and NO automatic retries (Temporal retries activities, with the
 * same IDs). Failures become typed errors that say whether the request may have reached Alipay.
 */

/** One request as it goes on the wire. */
export interface WireRequest {
  readonly method: 'GET' | 'POST';
  /** Full URL (for GET it carries the signed parameters: never log it). */
  readonly url: string;
  readonly body?: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Parameters in wire order: pre-sign order, then `sign_type`, then `sign`. */
function wireOrder(params: Readonly<Record<string, string>>): [string, string][] {
  const keys = Object.keys(params)
    .filter((k) => k !== 'sign' && k !== 'sign_type')
    .sort();
  const pairs: [string, string][] = keys.map((k) => [k, params[k] as string]);
  if (params['sign_type'] !== undefined) pairs.push(['sign_type', params['sign_type']]);
  if (params['sign'] !== undefined) pairs.push(['sign', params['sign']]);
  return pairs;
}

/**
 * Lays a signed request out for HTTP (MAPI.md §2.2). GET: every parameter in the query string.
 * POST: `_input_charset` in the URL query (so the gateway can decode the body), the rest as an
 * `application/x-www-form-urlencoded` body in that charset. `_input_charset` stays signed
 * either way.
 */
export function toWire(
  req: SignedRequest,
  gatewayUrl: string,
  method: 'GET' | 'POST',
  charset: Charset,
): WireRequest {
  const effective = req.method ?? method;
  const sep = gatewayUrl.includes('?') ? '&' : '?';
  const pairs = wireOrder(req.params);
  if (effective === 'GET') {
    return {
      method: 'GET',
      url: `${gatewayUrl}${sep}${encodeForm(pairs, charset, false)}`,
      headers: {},
    };
  }
  const inUrl = req.params['_input_charset'] ?? charset;
  return {
    method: 'POST',
    url: `${gatewayUrl}${sep}${encodeForm([['_input_charset', inUrl]], charset, false)}`,
    body: encodeForm(
      pairs.filter(([k]) => k !== '_input_charset'),
      charset,
    ),
    headers: { 'content-type': `application/x-www-form-urlencoded; charset=${charset}` },
  };
}

/** An HTTP answer, body fully read (within the size cap). */
export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

/** Transport settings. */
export interface TransportOptions {
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly maxResponseBytes: number;
  /** Injected dispatcher (MockAgent, a shared Agent); otherwise an own keep-alive Agent. */
  readonly dispatcher?: Dispatcher;
}

/** Per-call overrides. */
export interface CallOptions {
  readonly readTimeoutMs?: number;
  /** Cancels the call (e.g. Temporal activity cancellation). */
  readonly signal?: AbortSignal;
}

// Failures that prove the request never left this process / never reached the server.
const NOT_SENT = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
]);

function errorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function errorMessage(err: unknown): string | undefined {
  return err instanceof Error ? err.message : undefined;
}

/** The gateway's HTTP client. One instance per gateway; `close()` on shutdown. */
export class GatewayTransport {
  readonly #dispatcher: Dispatcher;
  readonly #owned: boolean;
  readonly #options: TransportOptions;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#owned = options.dispatcher === undefined;
    this.#dispatcher =
      options.dispatcher ??
      new Agent({
        connect: { timeout: options.connectTimeoutMs },
        keepAliveTimeout: 10_000,
        keepAliveMaxTimeout: 60_000,
        connections: 64,
        pipelining: 1,
      });
  }

  /** Sends one request and reads the whole answer. Never retries. */
  async send(
    wire: WireRequest,
    ctx: AlipayErrorContext,
    call: CallOptions = {},
  ): Promise<HttpAnswer> {
    const readTimeoutMs = call.readTimeoutMs ?? this.#options.readTimeoutMs;
    // Overall deadline on top of undici's idle timers, so a trickling body cannot hang a call.
    const deadline = AbortSignal.timeout(this.#options.connectTimeoutMs + readTimeoutMs);
    const signal = call.signal ? AbortSignal.any([deadline, call.signal]) : deadline;
    const url = new URL(wire.url);
    const moneyMoving = isMoneyMoving(ctx.service);
    let response: Dispatcher.ResponseData;
    try {
      response = await this.#dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: wire.method,
        headers: wire.headers,
        body: wire.body,
        headersTimeout: readTimeoutMs,
        bodyTimeout: readTimeoutMs,
        signal,
      });
    } catch (err) {
      throw this.#failure(err, ctx, moneyMoving, deadline, call.signal);
    }
    const { statusCode } = response;
    const contentType = headerValue(response.headers['content-type']);
    if (statusCode !== 200) {
      discard(response.body);
      const c = { ...ctx, httpStatus: statusCode };
      if (statusCode >= 500 || statusCode === 408 || statusCode === 429) {
        throw new AlipayTransportError(`HTTP ${statusCode} from the gateway`, {
          ...c,
          outcomeUnknown: moneyMoving,
        });
      }
      throw new AlipayGatewayError(`HTTP ${statusCode} from the gateway`, c);
    }
    const declared = Number(headerValue(response.headers['content-length']));
    if (Number.isFinite(declared) && declared > this.#options.maxResponseBytes) {
      discard(response.body);
      throw new AlipayResponseError(`answer of ${declared} bytes exceeds the limit`, {
        ...ctx,
        outcomeUnknown: moneyMoving,
      });
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of response.body) {
        total += (chunk as Buffer).length;
        if (total > this.#options.maxResponseBytes) {
          discard(response.body);
          throw new AlipayResponseError('answer exceeds the size limit', {
            ...ctx,
            outcomeUnknown: moneyMoving,
          });
        }
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      if (err instanceof AlipayResponseError) throw err;
      throw this.#failure(err, ctx, moneyMoving, deadline, call.signal);
    }
    return { status: statusCode, contentType, body: Buffer.concat(chunks, total) };
  }

  #failure(
    err: unknown,
    ctx: AlipayErrorContext,
    moneyMoving: boolean,
    deadline: AbortSignal,
    callSignal?: AbortSignal,
  ): Error {
    const code = errorCode(err);
    const cause = { causeCode: code, causeMessage: errorMessage(err) };
    if (code === 'UND_ERR_CONNECT_TIMEOUT') {
      return new AlipayTimeoutError('connect', { ...ctx, ...cause, outcomeUnknown: false });
    }
    if (
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_BODY_TIMEOUT' ||
      (deadline.aborted && !callSignal?.aborted)
    ) {
      return new AlipayTimeoutError('read', { ...ctx, ...cause, outcomeUnknown: moneyMoving });
    }
    if (callSignal?.aborted) {
      return new AlipayTransportError('call cancelled', {
        ...ctx,
        causeCode: 'ABORTED',
        outcomeUnknown: moneyMoving,
      });
    }
    const notSent = code !== undefined && NOT_SENT.has(code);
    return new AlipayTransportError(notSent ? 'cannot reach the gateway' : 'connection failed', {
      ...ctx,
      ...cause,
      outcomeUnknown: notSent ? false : moneyMoving,
    });
  }

  /** Closes the own dispatcher (an injected one belongs to the caller). */
  async close(): Promise<void> {
    if (this.#owned) await this.#dispatcher.close();
  }
}

/** Drops an unread body without an unhandled 'error' event (destroy emits AbortError). */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
