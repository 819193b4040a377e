import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SEED } from './flows';

/**
 * Shared pieces of the hostile-input scenarios: fast-check runs with the suite's seed (printed
 * with the counterexample on failure), an independent form decoder (the oracle must not be the
 * code under test), and the secret check.
 */

/** Runs a property with the fixed seed and a bounded number of runs; failures name the seed. */
export async function check<T>(
  name: string,
  arbitrary: fc.Arbitrary<T>,
  numRuns: number,
  property: (value: T) => Promise<void>,
): Promise<void> {
  try {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (v) => {
        await property(v);
      }),
      { seed: SEED, numRuns, endOnFailure: true },
    );
  } catch (err) {
    // fast-check's message carries the seed and path; say how to replay the whole suite too.
    throw new Error(
      `${name} (RELIABILITY_SEED=${SEED}): ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
}

/** Fields of a form as an independent decoder reads them; undefined: undecodable. */
export type Decoded = { fields: Map<string, string[]> } | undefined;

const LABELS: Record<string, string> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  gbk: 'gbk',
  gb2312: 'gbk',
  gb18030: 'gb18030',
};

/** The charset a Content-Type declares (default UTF-8); undefined when it names something unknown. */
export function declaredCharset(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  if (!match) return 'utf-8';
  return LABELS[match[1]!.toLowerCase()];
}

/**
 * Decodes `application/x-www-form-urlencoded` bytes without the engine's code. Values are kept as
 * their raw bytes (one latin1 character per byte): an MD5 signature covers bytes, so two bodies
 * say the same signed thing exactly when their bytes agree. Bytes that are not valid in the
 * declared charset make the body undecodable.
 */
export function decodeForm(body: Buffer, contentType: string | undefined): Decoded {
  const charset = declaredCharset(contentType);
  if (!charset || body.length === 0) return undefined;
  const decoder = new TextDecoder(charset, { fatal: true });
  const part = (s: string): string | undefined => {
    const bytes: number[] = [];
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x2b) bytes.push(0x20);
      else if (c === 0x25) {
        const hex = s.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else bytes.push(c);
    }
    try {
      decoder.decode(Uint8Array.from(bytes));
    } catch {
      return undefined;
    }
    return Buffer.from(bytes).toString('latin1');
  };
  const fields = new Map<string, string[]>();
  for (const pair of body.toString('latin1').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = part(eq < 0 ? pair : pair.slice(0, eq));
    const value = part(eq < 0 ? '' : pair.slice(eq + 1));
    if (name === undefined || value === undefined || name === '') return undefined;
    fields.set(name, [...(fields.get(name) ?? []), value]);
  }
  return { fields };
}

/**
 * True when `candidate` says exactly what the genuinely signed `genuine` says: the same non-empty
 * value bytes (empty ones are not signed), one value per name, the signature equal up to hex case.
 * Anything else carries content that no signature covers: it must not be acknowledged.
 */
export function sameSignedContent(candidate: Decoded, genuine: Record<string, string>): boolean {
  if (!candidate) return false;
  const norm = (k: string, v: string) =>
    k === 'sign' ? v.toLowerCase() : k === 'sign_type' ? v.toUpperCase() : v;
  const present = new Map<string, string>();
  for (const [k, values] of candidate.fields) {
    if (new Set(values).size > 1) return false; // two different values under one name
    if (values[0] !== '') present.set(k, norm(k, values[0]!));
  }
  const expected = Object.entries(genuine).filter(([, v]) => v !== '');
  return (
    present.size === expected.length && expected.every(([k, v]) => present.get(k) === norm(k, v))
  );
}

/** Asserts that no secret (and no signature we sent) appears in `text`. */
export function assertNoSecret(text: string, secrets: readonly string[], where: string): void {
  for (const s of secrets) {
    if (s.length >= 8 && text.includes(s))
      assert.fail(
        `${where} contains a secret or signature (${s.slice(0, 4)}…): ${text.slice(0, 300)}`,
      );
  }
}
