import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decode, encode, isRepresentable } from '../../../src/alipay/charset';
import { CharsetError } from '../../../src/alipay/errors';
import { formEncodeComponent } from '../../../src/alipay/form';
import { readNotification } from '../../../src/alipay/notification';
import { buildRefund } from '../../../src/alipay/requests';
import { createMd5Signer, preSignString } from '../../../src/alipay/signing';
import { parseJavaGbkTable } from '../../../scripts/gbk-table/table-file';
import { MADE_UP_KEY, V4_NOTIFICATION_FIELDS } from './fixtures';

/**
 * charset.ts's GBK against Java's own, as dumped by scripts/gbk-table/GbkTable.java into
 * test/fixtures/java-gbk.txt: every BMP code point, every one- and two-byte sequence.
 */

const ROOT = path.join(__dirname, '../../..');
const FIXTURE_TEXT = readFileSync(path.join(ROOT, 'test/fixtures/java-gbk.txt'), 'utf8');
const java = parseJavaGbkTable(FIXTURE_TEXT);
const md5 = createMd5Signer(MADE_UP_KEY);

/** Java's bytes for one code point (0x3F when Java cannot map it). */
function javaBytes(cp: number): number[] {
  const v = java.encode.get(cp);
  if (v === undefined) return [0x3f];
  return v < 0x100 ? [v] : [v >> 8, v & 0xff];
}

/**
 * Java's `getBytes("GBK")`, from the table alone (independent of src/): a surrogate pair is one
 * unmappable character, one '?' (the fixture's sample lines show it).
 */
function javaEncode(text: string): Buffer {
  const out: number[] = [];
  for (const ch of text) out.push(...(ch.length === 2 ? [0x3f] : javaBytes(ch.charCodeAt(0))));
  return Buffer.from(out);
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('GBK as Java speaks it (full table from Java 17)', () => {
  it('the fixture is a real dump: ~21,900 mapped code points and Java facts the issue names', () => {
    assert.match(java.source, /^Java GBK \(sun\.nio\.cs\.GBK\), Java \d+/);
    assert.ok(java.encode.size > 21_000, `${java.encode.size} code points`);
    assert.deepEqual(javaBytes(0x20ac), [0xa2, 0xe3]); // €
    assert.deepEqual(javaBytes(0x2641), [0xa8, 0x92]); // ♁
    assert.deepEqual(javaBytes(0x2295), [0x3f]); // ⊕ has no mapping in Java's GBK
  });

  it("the fixture is what this machine's Java dumps today (skipped without java)", (t) => {
    const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      t.skip('no java on PATH');
      return;
    }
    const dump = execFileSync('java', [path.join(ROOT, 'scripts/gbk-table/GbkTable.java')], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    // Same table; only the header's Java version may differ between machines.
    const body = (text: string) => text.split('\n').filter((l) => !l.startsWith('#'));
    assert.deepEqual(body(dump), body(FIXTURE_TEXT));
  });

  it('encodes every BMP code point to Java bytes (unmappable and lone surrogates -> "?")', () => {
    const wrong: string[] = [];
    for (let cp = 0; cp < 0x10000; cp++) {
      const ours = hex(encode(String.fromCharCode(cp), 'GBK'));
      const theirs = hex(Buffer.from(javaBytes(cp)));
      if (ours !== theirs) wrong.push(`U+${cp.toString(16)} ours=${ours} java=${theirs}`);
    }
    assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} code points differ`);
  });

  it('decodes every one- and two-byte sequence as Java does (U+FFFD in Java = refused)', () => {
    const wrong: string[] = [];
    const check = (bytes: number[]) => {
      const seq = bytes.length === 1 ? (bytes[0] as number) : (bytes[0]! << 8) | bytes[1]!;
      const expected = java.decode.get(seq);
      let ours: number | 'refused';
      try {
        const text = decode(Buffer.from(bytes), 'GBK');
        ours = text.length === 1 ? text.charCodeAt(0) : -2;
      } catch (err) {
        assert.ok(err instanceof CharsetError);
        ours = 'refused';
      }
      if (ours !== (expected ?? 'refused'))
        wrong.push(`${hex(Buffer.from(bytes))} ours=${String(ours)} java=${String(expected)}`);
    };
    for (let b = 0; b < 0x100; b++) check([b]);
    for (let lead = 0x81; lead <= 0xfe; lead++)
      for (let trail = 0; trail < 0x100; trail++) check([lead, trail]);
    assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} sequences differ`);
  });

  it("matches Java's getBytes on the sample strings (surrogate pairs are one '?')", () => {
    assert.ok(java.samples.length >= 8);
    for (const { text, bytes } of java.samples) {
      assert.equal(hex(encode(text, 'GBK')), hex(bytes), JSON.stringify(text));
    }
  });

  it('mixed strings: encode = Java bytes; decode(Java bytes) = the text (property)', () => {
    const mapped = [...java.encode.keys()];
    const overridden = [0x20ac, 0x2641, 0xe5e5, 0xe7c7, 0xe815, 0xe863, 0x2295, 0x2e81, 0x01f9];
    const unit = fc.oneof(
      fc.constantFrom(...mapped).map((cp) => String.fromCharCode(cp)),
      fc.constantFrom(...overridden).map((cp) => String.fromCharCode(cp)),
    );
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), (text) => {
        const bytes = javaEncode(text);
        assert.equal(hex(encode(text, 'GBK')), hex(bytes));
        const back = [...text].map((c) => (java.encode.has(c.charCodeAt(0)) ? c : '?')).join('');
        assert.equal(decode(bytes, 'GBK'), back);
        assert.equal(isRepresentable(text, 'GBK'), back === text);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what Java would not decode: GB18030 four-byte forms, 0x80, a lone lead byte', () => {
    for (const bytes of [[0x81, 0x35, 0xf4, 0x37], [0x80], [0x61, 0xb9], [0xa1, 0x7f], [0xff]]) {
      assert.throws(() => decode(Buffer.from(bytes), 'GBK'), CharsetError, hex(Buffer.from(bytes)));
    }
  });
});

describe('GBK signatures made the Java way', () => {
  /** A notification body as Alipay's Java gateway writes it: URLEncoder over Java's bytes. */
  function javaGbkBody(fields: Record<string, string>): Buffer {
    const sign = createHash('md5')
      .update(Buffer.concat([javaEncode(preSignString(fields)), Buffer.from(MADE_UP_KEY)]))
      .digest('hex');
    const pct = (s: string) =>
      [...javaEncode(s)]
        .map((b) =>
          /[A-Za-z0-9*._-]/.test(String.fromCharCode(b))
            ? String.fromCharCode(b)
            : b === 0x20
              ? '+'
              : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
        )
        .join('');
    const all = { ...fields, sign_type: 'MD5', sign };
    return Buffer.from(
      Object.entries(all)
        .map(([k, v]) => `${pct(k)}=${pct(v)}`)
        .join('&'),
      'latin1',
    );
  }

  it('a GBK notification with €, ♁ and private-use text, signed over Java bytes, is accepted', () => {
    const subject = 'Coffee 2.20€ ♁ \ue5e5\ue815 顾客';
    const body = javaGbkBody({ ...V4_NOTIFICATION_FIELDS, subject });
    assert.ok(body.includes('%A2%E3'), '€ travels as Java writes it (A2 E3)');
    const n = readNotification(body, {
      signer: md5,
      contentType: 'application/x-www-form-urlencoded; charset=GBK',
    });
    assert.equal(n.subject, subject);
    assert.equal(n.charset, 'GBK');
  });

  it('text Java cannot map was signed as "?" and arrives as "?": accepted', () => {
    // Java's getBytes turned ⊕ and the emoji into '?', in the signature and on the wire alike.
    const body = javaGbkBody({ ...V4_NOTIFICATION_FIELDS, subject: 'Tea ⊕ \u{1F375}' });
    const n = readNotification(body, { signer: md5, charset: 'GBK' });
    assert.equal(n.subject, 'Tea ? ?');
  });

  it('our MD5 over GBK text equals the Java-bytes digest; form encoding writes Java bytes', () => {
    const params = { ...V4_NOTIFICATION_FIELDS, subject: '2.20€ ⊕ ḿ \u{1F600}' };
    const javaDigest = createHash('md5')
      .update(Buffer.concat([javaEncode(preSignString(params)), Buffer.from(MADE_UP_KEY)]))
      .digest('hex');
    assert.equal(md5.sign(params, 'GBK'), javaDigest);
    assert.equal(formEncodeComponent('€ ♁', 'GBK'), '%A2%E3+%A8%92');
  });

  it('request builders refuse GBK-unmappable text instead of sending "?"', () => {
    const build = (reason: string) =>
      buildRefund(
        { outTradeNo: 'T1', refundId: 'R1', amount: { minor: 100, currency: 'USD' }, reason },
        {
          partner: '2088101122136241',
          charset: 'GBK',
          signer: md5,
          now: () => 0,
          cancelTimestamp: 'epochMs',
          refundReasonField: 'refund_reason',
          signNotifyVerify: true,
        },
      );
    assert.equal(build('破损 2.20€').params['refund_reason'], '破损 2.20€');
    assert.throws(() => build('cup ⊕ broken'), {
      name: 'AlipayRequestValidationError',
      field: 'reason',
    });
  });
});
