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
 * True when `candidate` says exactly what the genuinely signed `genuine` says: the same signed
 * content (the non-empty value bytes of every field but the signature's own, `sign` and
 * `sign_type` in any letter case, which Alipay's Java pre-sign string leaves out: MAPI.md §4),
 * one value per name, and the same `sign` up to hex case. Anything else carries content that no
 * signature covers: it must not be acknowledged.
 */
export function sameSignedContent(candidate: Decoded, genuine: Record<string, string>): boolean {
  if (!candidate) return false;
  const signatureField = (k: string) => /^sign(_type)?$/i.test(k);
  const content = new Map<string, string>();
  let sign: string | undefined;
  for (const [k, values] of candidate.fields) {
    if (new Set(values).size > 1 && !(signatureField(k) && k !== 'sign')) return false; // two values under one name
    if (k === 'sign') sign = values[0]!.toLowerCase();
    else if (!signatureField(k) && values[0] !== '') content.set(k, values[0]!);
  }
  const expected = Object.entries(genuine).filter(([k, v]) => v !== '' && !signatureField(k));
  return (
    sign === genuine['sign']?.toLowerCase() &&
    content.size === expected.length &&
    expected.every(([k, v]) => content.get(k) === v)
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
