import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  charsetFromContentType,
  charsetFromXmlDeclaration,
  decode,
  encode,
  normalizeCharset,
} from '../../../src/alipay/charset';
import { CharsetError, MalformedFormError } from '../../../src/alipay/errors';
import { encodeForm, formEncodeComponent, parseForm } from '../../../src/alipay/form';

describe('charset', () => {
  it('normalises labels; GB2312 is a GBK alias; unknown labels are refused', () => {
    assert.equal(normalizeCharset('utf-8'), 'UTF-8');
    assert.equal(normalizeCharset('UTF8'), 'UTF-8');
    assert.equal(normalizeCharset('gb2312'), 'GBK');
    assert.equal(normalizeCharset(' GBK '), 'GBK');
    assert.throws(() => normalizeCharset('ISO-8859-1'), CharsetError);
    assert.equal(charsetFromContentType('text/xml; charset="gb2312"'), 'GBK');
    assert.equal(charsetFromContentType('text/xml'), undefined);
    assert.equal(
      charsetFromXmlDeclaration(Buffer.from("<?xml version='1.0' encoding='GBK'?><a/>")),
      'GBK',
    );
    assert.equal(charsetFromXmlDeclaration(Buffer.from('<a/>')), undefined);
  });

  it('decodes strictly', () => {
    assert.equal(decode(encode('顾客退货', 'GBK'), 'GBK'), '顾客退货');
    assert.throws(() => decode(encode('顾客退货', 'GBK'), 'UTF-8'), CharsetError);
    assert.throws(() => decode(Buffer.from([0x81]), 'GBK'), CharsetError);
  });
});

describe('form encoding', () => {
  it('encodes like URLSearchParams / Java URLEncoder in UTF-8', () => {
    const value = "a b+c&d=e/f?g*h-i.j_k~l!m'n(o)p%q 顾客";
    assert.equal(
      formEncodeComponent(value, 'UTF-8'),
      new URLSearchParams({ v: value }).toString().slice(2),
    );
    assert.equal(formEncodeComponent('a b', 'UTF-8', false), 'a%20b');
    assert.equal(
      encodeForm(
        [
          ['a', '1'],
          ['b', undefined],
          ['c', ''],
        ],
        'UTF-8',
      ),
      'a=1&c=',
    );
  });

  it('encodes GBK bytes as %XX', () => {
    assert.equal(formEncodeComponent('顾客 x', 'GBK'), '%B9%CB%BF%CD+x');
  });

  it('round-trips any text in UTF-8 and any GBK-representable text (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1 }).filter((k) => k !== '__proto__'),
          fc.string(),
        ),
        (fields) => {
          let encodable = true;
          try {
            encodeURIComponent(JSON.stringify(fields));
          } catch {
            encodable = false;
          }
          fc.pre(encodable);
          const parsed = parseForm(
            Buffer.from(encodeForm(Object.entries(fields), 'UTF-8'), 'latin1'),
            'UTF-8',
          );
          assert.deepEqual({ ...parsed }, { ...fields });
        },
      ),
    );
    const gbkText = fc.string({
      unit: fc.constantFrom('a', ' ', '&', '=', '+', '%', '顾', '客', '退', '货', '中', '文'),
    });
    fc.assert(
      fc.property(
        fc.dictionary(
          gbkText.filter((k) => k.length > 0),
          gbkText,
        ),
        (fields) => {
          const parsed = parseForm(
            Buffer.from(encodeForm(Object.entries(fields), 'GBK'), 'latin1'),
            'GBK',
          );
          assert.deepEqual({ ...parsed }, { ...fields });
        },
      ),
    );
  });

  it('parses raw (unescaped) bytes in the declared charset and keeps __proto__ as a plain field', () => {
    const body = Buffer.concat([
      Buffer.from('a='),
      encode('顾客', 'GBK'),
      Buffer.from('&__proto__=x&constructor=y'),
    ]);
    const fields = parseForm(body, 'GBK');
    assert.equal(fields['a'], '顾客');
    assert.equal(fields['__proto__'], 'x');
    assert.equal(Object.getPrototypeOf(fields), null);
    assert.equal(({} as Record<string, unknown>)['x'], undefined);
  });

  it('refuses duplicates, bad escapes, invalid bytes and too many fields', () => {
    const reason = (r: MalformedFormError['reason']) => (err: unknown) =>
      err instanceof MalformedFormError && err.reason === r;
    assert.throws(() => parseForm(Buffer.from('a=1&a=1'), 'UTF-8'), reason('DUPLICATE_FIELD'));
    assert.throws(() => parseForm(Buffer.from('a=%G0'), 'UTF-8'), reason('MALFORMED_ENCODING'));
    assert.throws(() => parseForm(Buffer.from('a=%C3%28'), 'UTF-8'), reason('CHARSET'));
    assert.throws(
      () => parseForm(Buffer.from('a=1&b=2&c=3'), 'UTF-8', { maxFields: 2 }),
      reason('TOO_MANY_FIELDS'),
    );
  });
});
