/** A MAPI parameter set: raw (never URL-encoded) values; empty ones are not signed. */
export type Params = Record<string, string | undefined | null>;

function hasNonAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The MAPI pre-sign string (MAPI.md §4.1): every parameter except `sign` and `sign_type`, empty
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
    if (k === 'sign' || k === 'sign_type') continue;
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
