/**
 * Reads the compact dump of Java's GBK charset that `GbkTable.java` writes
 * (test/fixtures/java-gbk.txt; the line format is described there and in GbkTable.java) into
 * full encode and decode maps. Shared by scripts/gbk-table.ts and the charset tests.
 */

/** Java's GBK, every BMP code point and every one- or two-byte sequence. */
export interface JavaGbkTable {
  /** Code point -> bytes as a number (one byte < 0x100, two bytes as lead << 8 | trail); absent = `?`. */
  readonly encode: ReadonlyMap<number, number>;
  /** Byte sequence (same numbering; single bytes < 0x100) -> code point; absent = malformed. */
  readonly decode: ReadonlyMap<number, number>;
  /** Sample strings and Java's `getBytes("GBK")` of them. */
  readonly samples: readonly { readonly text: string; readonly bytes: Buffer }[];
  /** The header's generator line (Java version). */
  readonly source: string;
}

export function parseJavaGbkTable(text: string): JavaGbkTable {
  const encode = new Map<number, number>();
  const decode = new Map<number, number>();
  const exceptions: [number, number][] = [];
  const samples: { text: string; bytes: Buffer }[] = [];
  let source = '';
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (source === '') source = line.slice(1).trim();
      continue;
    }
    const e = /^E ([0-9A-F]{4}) ([0-9A-F]{2}|[0-9A-F]{4})(?: ([0-9]+))?$/.exec(line);
    if (e) {
      const cp = parseInt(e[1] as string, 16);
      const bytes = parseInt(e[2] as string, 16);
      const n = e[3] === undefined ? 1 : Number(e[3]);
      for (let k = 0; k < n; k++) encode.set(cp + k, bytes + k);
      continue;
    }
    const d = /^D ([0-9A-F]{2}|[0-9A-F]{4}) ([0-9A-F]{4})$/.exec(line);
    if (d) {
      exceptions.push([parseInt(d[1] as string, 16), parseInt(d[2] as string, 16)]);
      continue;
    }
    const s = /^S((?: [0-9A-F]{4})+) =((?: [0-9A-F]{2})*)$/.exec(line);
    if (s) {
      const units = (s[1] as string).trim().split(' ');
      samples.push({
        text: String.fromCharCode(...units.map((u) => parseInt(u, 16))),
        bytes: Buffer.from((s[2] as string).replace(/ /g, ''), 'hex'),
      });
      continue;
    }
    throw new Error(`java-gbk table line ${i + 1} is not understood: ${line.slice(0, 60)}`);
  }
  for (const [cp, bytes] of encode) decode.set(bytes, cp);
  for (const [bytes, cp] of exceptions) decode.set(bytes, cp);
  return { encode, decode, samples, source };
}
