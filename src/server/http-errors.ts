import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  EngineUnavailableError,
  InvalidRequestError,
  OperationFailedError,
  PaymentNotFoundError,
  QrCodeNotFoundError,
  RefundNotFoundError,
  RequestRejectedError,
} from '../client-errors';
import { EngineError } from '../errors';

/** The JSON body of every merchant API error. */
export interface ApiErrorBody {
  error: {
    code: string;
    message: string;
    /** The request field at fault, when there is one. */
    field?: string;
  };
}

/** A request refused by the HTTP layer itself (auth, headers). */
export class HttpRequestError extends EngineError {
  readonly retryable = false;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/**
 * Maps the client's typed errors to HTTP: 400 malformed input (names the field), 401 no key,
 * 403 a read-only key writing, 404 unknown (or outside the key's scope) payment, refund, code or
 * store, 409 refused by the current state, 422 refused as invalid by the workflow, 429 too many
 * requests, 502 Alipay refused, 503 Temporal unreachable or slow (repeat the same request).
 */
export function statusOf(err: unknown): number {
  if (err instanceof HttpRequestError) return err.status;
  if (err instanceof InvalidRequestError) return 400;
  if (
    err instanceof PaymentNotFoundError ||
    err instanceof QrCodeNotFoundError ||
    err instanceof RefundNotFoundError
  )
    return 404;
  if (err instanceof RequestRejectedError) return err.kind === 'INVALID' ? 422 : 409;
  if (err instanceof OperationFailedError) return 502;
  if (err instanceof EngineUnavailableError) return 503;
  const fastify = err as Partial<FastifyError>;
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400)
    return fastify.statusCode;
  return 500;
}

export function errorBody(err: unknown, status: number): ApiErrorBody {
  if (err instanceof EngineError) {
    const field = (err as { field?: unknown }).field;
    return {
      error: {
        code: err.code,
        message: err.message,
        ...(typeof field === 'string' ? { field } : {}),
      },
    };
  }
  const fastify = err as Partial<FastifyError>;
  if (status < 500 && fastify.code) {
    const field = fastify.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'body' : undefined;
    return {
      error: {
        code: fastify.code.replace(/^FST_ERR_/, ''),
        message: fastify.message ?? 'bad request',
        ...(field || status === 400 || status === 413 || status === 415 ? { field: 'body' } : {}),
      },
    };
  }
  return { error: { code: 'INTERNAL', message: 'internal error' } };
}

/** Fastify error handler for the merchant API. */
export function apiErrorHandler(
  err: unknown,
  req: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const status = statusOf(err);
  if (status >= 500) {
    // The backend's own words (SQL errors, gRPC details) go to the log, never to the client.
    const cause = err instanceof Error ? err.cause : undefined;
    req.log.error(
      {
        err: err instanceof Error ? err.message : String(err),
        ...(cause !== undefined ? { cause: causeText(cause) } : {}),
        status,
      },
      'request failed',
    );
  }
  if (err instanceof EngineUnavailableError) void reply.header('retry-after', '5');
  if (status === 401) void reply.header('www-authenticate', 'Bearer realm="alipay-qr-engine"');
  return reply.code(status).send(errorBody(err, status));
}

function causeText(cause: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = cause; c !== undefined && parts.length < 4;) {
    if (!(c instanceof Error)) {
      parts.push(String(c));
      break;
    }
    const details = (c as { details?: unknown }).details;
    parts.push(typeof details === 'string' && details !== '' ? details : c.message);
    c = c.cause;
  }
  return parts.join(' <- ');
}
