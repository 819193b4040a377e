import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Merchant API keys and what each may touch. A key is known only by its SHA-256 digest (the keys
 * file never holds a key itself) and is bound to a scope:
 *
 * - `all`: every code and payment of the partner (the `MERCHANT_API_KEYS` keys are such keys);
 * - a list of secondary merchants and/or stores: the codes of those stores, the codes of those
 *   merchants' stores, and the payments made at any of them.
 *
 * and an access level: `read-only` (GET) or `read-write`.
 */
export type ApiAccess = 'read-only' | 'read-write';

export type ApiScope =
  | { kind: 'all' }
  | { kind: 'limited'; secondaryMerchants: readonly string[]; stores: readonly string[] };

export interface ApiKey {
  /** A name for logs and rate limits (never the key). */
  id: string;
  /** SHA-256 of the key's UTF-8 bytes. */
  digest: Buffer;
  access: ApiAccess;
  scope: ApiScope;
  /** Requests per minute for this key; undefined = the configured default. */
  ratePerMinute?: number;
}

export const ALL: ApiScope = { kind: 'all' };

/** SHA-256 of a key, as stored. */
export function keyDigest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** The `MERCHANT_API_KEYS` keys: all of the partner, read-write (as before scopes existed). */
export function keysFromEnv(keys: readonly string[]): ApiKey[] {
  return keys.map((key, i) => ({
    id: `env-${i + 1}`,
    digest: keyDigest(key),
    access: 'read-write',
    scope: ALL,
  }));
}

/**
 * Parses a keys file (JSON). Every problem is reported at once, each naming the entry:
 *
 * ```json
 * {"keys": [
 *   {"id": "till-S01", "sha256": "<64 hex>", "access": "read-write", "stores": ["S01"]},
 *   {"id": "acquirer-reports", "sha256": "<64 hex>", "access": "read-only",
 *    "secondaryMerchants": ["M-1", "M-2"], "ratePerMinute": 120},
 *   {"id": "operations", "sha256": "<64 hex>", "access": "read-write", "scope": "all"}
 * ]}
 * ```
 */
export function parseKeysFile(text: string, label: string): { keys: ApiKey[]; problems: string[] } {
  const problems: string[] = [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { keys: [], problems: [`${label}: not JSON (${(err as Error).message})`] };
  }
  const list = (json as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list) || list.length === 0)
    return { keys: [], problems: [`${label}: expected {"keys": [ ...at least one key ]}`] };
  const keys: ApiKey[] = [];
  const ids = new Set<string>();
  const digests = new Set<string>();
  list.forEach((raw: unknown, i) => {
    const entry = (raw ?? {}) as Record<string, unknown>;
    const where = `${label} keys[${i}]${typeof entry.id === 'string' ? ` (${entry.id})` : ''}`;
    const bad = (what: string) => problems.push(`${where}: ${what}`);
    const known = ['id', 'sha256', 'access', 'scope', 'secondaryMerchants', 'stores'];
    for (const field of Object.keys(entry))
      if (![...known, 'ratePerMinute'].includes(field)) bad(`unknown field ${field}`);
    const id = entry.id;
    if (typeof id !== 'string' || !/^[\w.-]{1,64}$/.test(id))
      bad('id must be 1-64 letters, digits, _ . or -');
    else if (ids.has(id)) bad('id is used twice');
    else ids.add(id);
    const sha = entry.sha256;
    if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/i.test(sha))
      bad("sha256 must be the 64 hex digits of the key's SHA-256 (never the key itself)");
    else if (digests.has(sha.toLowerCase())) bad('the same key digest is listed twice');
    else digests.add(sha.toLowerCase());
    if (entry.access !== 'read-only' && entry.access !== 'read-write')
      bad('access must be read-only or read-write');
    const lists = { secondaryMerchants: entry.secondaryMerchants, stores: entry.stores };
    for (const [name, value] of Object.entries(lists)) {
      if (
        value !== undefined &&
        (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== ''))
      )
        bad(`${name} must be a list of IDs`);
    }
    const limited = lists.secondaryMerchants !== undefined || lists.stores !== undefined;
    if (entry.scope !== undefined && entry.scope !== 'all') bad('scope can only be "all"');
    if (entry.scope === 'all' && limited) bad('scope "all" cannot also list merchants or stores');
    if (entry.scope === undefined && !limited)
      bad('give "scope": "all", or secondaryMerchants and/or stores');
    const rate = entry.ratePerMinute;
    if (rate !== undefined && (!Number.isInteger(rate) || (rate as number) < 1))
      bad('ratePerMinute must be a positive integer');
    if (problems.length > 0) return;
    keys.push({
      id: id as string,
      digest: Buffer.from(sha as string, 'hex'),
      access: entry.access as ApiAccess,
      scope: limited
        ? {
            kind: 'limited',
            secondaryMerchants: (lists.secondaryMerchants as string[] | undefined) ?? [],
            stores: (lists.stores as string[] | undefined) ?? [],
          }
        : ALL,
      ...(rate !== undefined ? { ratePerMinute: rate as number } : {}),
    });
  });
  return { keys, problems };
}

/**
 * Finds the key a bearer token is, comparing digests in constant time against every key (no early
 * exit): neither a key's content, its length nor which key was close leaks through timing.
 */
export function identifyKey(keys: readonly ApiKey[], token: string): ApiKey | undefined {
  const given = keyDigest(token);
  let found: ApiKey | undefined;
  for (const key of keys) {
    if (timingSafeEqual(key.digest, given)) found ??= key;
  }
  return found;
}
