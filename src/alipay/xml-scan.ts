import { MalformedXmlError } from './errors';

/**
 * Low-level XML safety helpers for `xml.ts`: a linear well-formedness scan (fast-xml-parser is
 * lenient about mismatched or unclosed tags) and a strict entity decoder that knows only the
 * five predefined XML entities and numeric character references.
 */

const NAME = /^[A-Za-z_:][A-Za-z0-9_:.-]*$/;

function fail(
  reason: 'NOT_XML' | 'NOT_WELL_FORMED' | 'FORBIDDEN_DECLARATION',
  detail: string,
): never {
  throw new MalformedXmlError(reason, detail);
}

function isBlank(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}

function shortName(name: string | undefined): string {
  return name === undefined ? '(none)' : `<${name.slice(0, 40)}>`;
}

/** Index of the `>` that ends the tag opened at `lt`, honouring quoted attribute values. */
function tagEnd(xml: string, lt: number): number {
  let quote = 0;
  for (let i = lt + 1; i < xml.length; i++) {
    const ch = xml.charCodeAt(i);
    if (quote !== 0) {
      if (ch === quote) quote = 0;
    } else if (ch === 0x22 || ch === 0x27) {
      quote = ch;
    } else if (ch === 0x3e) {
      return i;
    } else if (ch === 0x3c) {
      fail('NOT_WELL_FORMED', `'<' inside a tag at ${i}`);
    }
  }
  return fail('NOT_WELL_FORMED', 'truncated: unterminated tag');
}

/**
 * Throws {@link MalformedXmlError} unless `xml` is one balanced element tree: a single root,
 * only whitespace, comments and processing instructions outside it, every tag closed by its own
 * name, no DOCTYPE or other `<!` declaration (refusing them is what rules out XXE and
 * billion-laughs documents).
 */
export function assertWellFormed(xml: string): void {
  const stack: string[] = [];
  let rootSeen = false;
  let pos = 0;
  const len = xml.length;
  while (pos < len) {
    const lt = xml.indexOf('<', pos);
    const textEnd = lt === -1 ? len : lt;
    if (stack.length === 0 && textEnd > pos && !isBlank(xml, pos, textEnd)) {
      fail(rootSeen ? 'NOT_WELL_FORMED' : 'NOT_XML', 'text outside the root element');
    }
    if (lt === -1) break;
    const c = xml.charCodeAt(lt + 1);
    if (c === 0x3f) {
      const end = xml.indexOf('?>', lt + 2);
      if (end === -1) fail('NOT_WELL_FORMED', 'truncated: unterminated processing instruction');
      pos = end + 2;
      continue;
    }
    if (c === 0x21) {
      if (xml.startsWith('<!--', lt)) {
        const end = xml.indexOf('-->', lt + 4);
        if (end === -1) fail('NOT_WELL_FORMED', 'truncated: unterminated comment');
        pos = end + 3;
        continue;
      }
      if (xml.startsWith('<![CDATA[', lt)) {
        if (stack.length === 0) fail('NOT_WELL_FORMED', 'CDATA outside the root element');
        const end = xml.indexOf(']]>', lt + 9);
        if (end === -1) fail('NOT_WELL_FORMED', 'truncated: unterminated CDATA');
        pos = end + 3;
        continue;
      }
      fail('FORBIDDEN_DECLARATION', 'DOCTYPE / ENTITY declarations are not accepted');
    }
    const end = tagEnd(xml, lt);
    if (c === 0x2f) {
      const name = xml.slice(lt + 2, end).trimEnd();
      const open = stack.pop();
      if (open !== name) {
        fail('NOT_WELL_FORMED', `closing tag ${shortName(name)} does not match ${shortName(open)}`);
      }
    } else {
      const selfClosing = xml.charCodeAt(end - 1) === 0x2f;
      let j = lt + 1;
      while (j < end) {
        const ch = xml.charCodeAt(j);
        if (ch === 0x20 || ch === 0x0a || ch === 0x0d || ch === 0x09 || ch === 0x2f) break;
        j++;
      }
      const name = xml.slice(lt + 1, j);
      if (!NAME.test(name))
        fail(rootSeen || stack.length ? 'NOT_WELL_FORMED' : 'NOT_XML', 'invalid tag name');
      if (stack.length === 0) {
        if (rootSeen) fail('NOT_WELL_FORMED', 'more than one root element');
        rootSeen = true;
      }
      if (!selfClosing) stack.push(name);
    }
    pos = end + 1;
  }
  if (stack.length > 0)
    fail('NOT_WELL_FORMED', `truncated: ${shortName(stack[stack.length - 1])} is not closed`);
  if (!rootSeen) fail('NOT_XML', 'no root element');
}

const PREDEFINED: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};
const REFERENCE = /&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));/g;

function codePoint(cp: number): string {
  if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    fail('NOT_WELL_FORMED', 'invalid character reference');
  }
  return String.fromCodePoint(cp);
}

/**
 * Decodes `&amp; &lt; &gt; &quot; &apos;` and `&#NN;` / `&#xHH;`. Any other `&` (an undeclared
 * entity or a bare ampersand) makes the document malformed: nothing is expanded from outside.
 */
export function decodeXmlEntities(text: string): string {
  if (text.indexOf('&') === -1) return text;
  let consumed = 0;
  const out = text.replace(REFERENCE, (_m, named?: string, dec?: string, hex?: string) => {
    consumed++;
    if (named) return PREDEFINED[named] as string;
    return codePoint(dec !== undefined ? Number(dec) : parseInt(hex as string, 16));
  });
  let ampersands = 0;
  for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1)) ampersands++;
  if (ampersands !== consumed) fail('NOT_WELL_FORMED', "bare '&' or undeclared entity");
  return out;
}
