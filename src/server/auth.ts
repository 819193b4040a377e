import type { FastifyRequest } from 'fastify';
import { identifyKey, type ApiKey } from './api-keys';
import { HttpRequestError } from './http-errors';

declare module 'fastify' {
  interface FastifyRequest {
    /** The merchant API key of the request, once `bearerAuth` accepted it. */
    apiKey?: ApiKey;
  }
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Bearer-key check of the merchant API: finds the key among the configured digests (constant
 * time), refuses writes with a read-only key (403), and leaves the key on the request for the
 * scope checks and the rate limit. Keys never reach the logs (the `authorization` header is
 * redacted, and only the key's `id` is ever logged).
 */
export function bearerAuth(keys: readonly ApiKey[]): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      throw new HttpRequestError(401, 'UNAUTHORIZED', 'Authorization: Bearer <key> is required');
    }
    const key = identifyKey(keys, match[1] as string);
    if (!key) throw new HttpRequestError(401, 'UNAUTHORIZED', 'unknown API key');
    if (key.access === 'read-only' && !READ_METHODS.has(req.method))
      throw new HttpRequestError(403, 'FORBIDDEN', 'this API key is read-only');
    req.apiKey = key;
  };
}

/** The request's key (the routes run behind `bearerAuth`). */
export function keyOf(req: FastifyRequest): ApiKey {
  if (!req.apiKey) throw new HttpRequestError(401, 'UNAUTHORIZED', 'no API key');
  return req.apiKey;
}
