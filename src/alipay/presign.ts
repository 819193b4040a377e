/** A MAPI parameter set: raw (never URL-encoded) values; empty ones are not signed. */
export type Params = Record<string, string | undefined | null>;

function hasNonAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

/**
 * `sign` and `sign_type` in any letter case. Alipay's demo code filters them with Java's
 * `equalsIgnoreCase`, so `SIGN` or `Sign_Type` never enter the pre-sign string either. The length
 * test keeps the common case (every other key) to one comparison.
 */
function isSignatureKey(k: string): boolean {
  const n = k.length;
  if (n !== 4 && n !== 9) return false;
  // Only `s`, `S` and `ſ` (U+017F, upper case `S`) can start either name, ignoring case.
  const c = k.charCodeAt(0);
  if ((c | 0x20) !== 0x73 && c !== 0x17f) return false;
  return n === 4
    ? k === 'sign' || equalsIgnoreCase(k, 'sign')
    : k === 'sign_type' || equalsIgnoreCase(k, 'sign_type');
}

/**
 * Java's `String.equalsIgnoreCase` against a lower-case ASCII `target` of the same length: per
 * UTF-16 unit, equal, or equal upper-cased, or equal lower-cased after upper-casing (so `ı`
 * U+0131 and `İ` U+0130 match `i`, and `ſ` U+017F matches `s`, as in Java).
 */
function equalsIgnoreCase(k: string, target: string): boolean {
  for (let i = 0; i < k.length; i++) {
    const c = k.charAt(i);
    const t = target.charAt(i);
    if (c === t) continue;
    // Java's Character.toUpperCase / toLowerCase map one unit to one unit: `ß` stays `ß`, and
    // `İ` (U+0130) lower-cases to `i` (JavaScript's full mapping gives `i` + U+0307).
    const upper = c.toUpperCase();
    const u = upper.length === 1 ? upper : c;
    if (u === t.toUpperCase() || u.toLowerCase().charAt(0) === t) continue;
    return false;
  }
  return true;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The MAPI pre-sign string (MAPI.md §4.1): every parameter except `sign` and `sign_type` (any
 * letter case, as Alipay's demo code drops them), empty
 * values (`''`, null, undefined) dropped, keys sorted in ascending byte order, `key=value` joined
 * with `&`, values raw. ASCII keys (all real MAPI keys) are sorted with the default UTF-16 sort,
 * which equals byte order for ASCII; a non-ASCII key switches to a UTF-8 byte comparator.
 */
export function preSignString(params: Params): string {
  const keys = Object.keys(params);
  const kept: string[] = [];
  let nonAscii = false;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    if (isSignatureKey(k)) continue;
    const v = params[k];
    if (v === undefined || v === null || v === '') continue;
    if (!nonAscii && hasNonAscii(k)) nonAscii = true;
    kept.push(k);
  }
  if (nonAscii) {
    kept.sort(byteOrder);
  } else {
    // Insertion sort: MAPI sets have 5-25 keys, where it beats Array#sort by ~2x.
    // String `>` compares UTF-16 code units, which is byte order for ASCII.
    for (let i = 1; i < kept.length; i++) {
      const x = kept[i] as string;
      let j = i - 1;
      while (j >= 0 && (kept[j] as string) > x) {
        kept[j + 1] = kept[j] as string;
        j--;
      }
      kept[j + 1] = x;
    }
  }
  let out = '';
  for (let i = 0; i < kept.length; i++) {
    const k = kept[i] as string;
    out += i === 0 ? k + '=' + (params[k] as string) : '&' + k + '=' + (params[k] as string);
  }
  return out;
}
