import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HttpRequestError } from './http-errors';

/**
 * Bearer-key check of the merchant API. Keys are compared as SHA-256 digests in constant time, so
 * neither a key's content nor its length leaks through timing. Keys never reach the logs (the
 * `authorization` header is redacted by the logger).
 */
export function bearerAuth(keys: readonly string[]): (req: FastifyRequest) => Promise<void> {
  const digests = keys.map((key) => digest(key));
  return async (req) => {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      throw new HttpRequestError(401, 'UNAUTHORIZED', 'Authorization: Bearer <key> is required');
    }
    const given = digest(match[1] as string);
    // Check every key (no early exit): the time taken does not tell which key was close.
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, given) || ok;
    if (!ok) throw new HttpRequestError(401, 'UNAUTHORIZED', 'unknown API key');
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
