import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encode } from '../../../src/alipay/charset';
import {
  createMd5Signer,
  createRsaSigner,
  preSignString,
  type Params,
} from '../../../src/alipay/signing';
import { MADE_UP_KEY, V4_NOTIFICATION_FIELDS } from './fixtures';
import { testKeyPair } from './helpers';

const md5 = createMd5Signer(MADE_UP_KEY);

const V1: Params = {
  service: 'alipay.acquire.overseas.query',
  partner: '2088101122136241',
  _input_charset: 'UTF-8',
  partner_trans_id: 'QR20240101000001',
  sign_type: 'MD5',
};

const V2: Params = {
  service: 'alipay.acquire.overseas.spot.refund',
  partner: '2088101122136241',
  _input_charset: 'UTF-8',
  partner_trans_id: 'QR20240101000001',
  partner_refund_id: 'RF20240101000001-1',
  refund_amount: '12.50',
  currency: 'USD',
  refund_reason: '顾客退货',
  is_sync: 'Y',
  notify_url: 'https://shop.example.com/alipay/notify?src=mapi&v=1',
  alipay_trans_id: '',
  sign_type: 'MD5',
};

const V3_BIZ_DATA =
  '{"secondary_merchant_id":"M0001","secondary_merchant_name":"Demo Cafe","secondary_merchant_industry":"5812","store_id":"S01","store_name":"Demo Cafe Central","trans_currency":"USD","currency":"USD"}';

const V3: Params = {
  biz_data: V3_BIZ_DATA,
  service: 'alipay.commerce.qrcode.create',
  partner: '2088101122136241',
  _input_charset: 'UTF-8',
  timestamp: '2024-01-01 12:00:00',
  notify_url: 'https://shop.example.com/alipay/notify',
  biz_type: 'OVERSEASHOPQRCODE',
};

const V4: Params = {
  ...V4_NOTIFICATION_FIELDS,
  body: '',
  sign_type: 'MD5',
  sign: 'c7845fd892a4ba3cb5c3e9baf3ff1ca0',
};

const V5: Params = {
  action: 'refund',
  out_trade_no: '2024010100000000001',
  result_code: 'SUCCESS',
  retry_flag: 'N',
  trade_no: '2024010122001300000000000001',
};

describe('MAPI.md §4.8 vectors (MD5, MADE-UP key)', () => {
  it('V1 QUERY request', () => {
    assert.equal(
      preSignString(V1),
      '_input_charset=UTF-8&partner=2088101122136241&partner_trans_id=QR20240101000001&service=alipay.acquire.overseas.query',
    );
    assert.equal(md5.sign(V1), '430c93faf8b653b7dc6552c2178ba530');
  });

  it('V2 REFUND request: empty value dropped, URL and Chinese text verbatim', () => {
    assert.equal(
      preSignString(V2),
      '_input_charset=UTF-8&currency=USD&is_sync=Y&notify_url=https://shop.example.com/alipay/notify?src=mapi&v=1&partner=2088101122136241&partner_refund_id=RF20240101000001-1&partner_trans_id=QR20240101000001&refund_amount=12.50&refund_reason=顾客退货&service=alipay.acquire.overseas.spot.refund',
    );
    assert.equal(md5.sign(V2, 'UTF-8'), '48ce996b6a572bf1de78d6e2bc34b36e');
  });

  it('V2 in GBK, and the charset-mismatch digest', () => {
    const gbk = { ...V2, _input_charset: 'GBK' };
    assert.equal(md5.sign(gbk, 'GBK'), '7983202c163da70edb27262741b660ba');
    assert.equal(md5.sign(gbk, 'UTF-8'), '965cb955a03759c5cfcc8023f905fcdc');
    assert.equal(md5.verify(gbk, '7983202c163da70edb27262741b660ba', 'GBK'), true);
    assert.equal(md5.verify(gbk, '7983202c163da70edb27262741b660ba', 'UTF-8'), false);
  });

  it('V3 CREATE request: biz_data JSON and the space in timestamp signed verbatim', () => {
    assert.equal(
      preSignString(V3),
      `_input_charset=UTF-8&biz_data=${V3_BIZ_DATA}&biz_type=OVERSEASHOPQRCODE&notify_url=https://shop.example.com/alipay/notify&partner=2088101122136241&service=alipay.commerce.qrcode.create&timestamp=2024-01-01 12:00:00`,
    );
    assert.equal(md5.sign(V3), '86f0567c63034860d05d51d3884c3594');
  });

  it('V4 notification verifies; sign and sign_type excluded, empty body dropped', () => {
    assert.equal(
      preSignString(V4),
      'currency=USD&notify_id=a1b2c3d4e5f60718293a4b5c6d7e8f90ab&notify_time=2024-01-01 12:05:09&notify_type=trade_status_sync&out_trade_no=2024010100000000001&total_fee=8.80&trade_no=2024010122001300000000000001&trade_status=TRADE_SUCCESS',
    );
    assert.equal(md5.verify(V4, 'c7845fd892a4ba3cb5c3e9baf3ff1ca0'), true);
  });

  it('drops sign and sign_type in any letter case, as Java equalsIgnoreCase does', () => {
    const plain = preSignString(V5);
    for (const extra of [
      { SIGN: 'x', SIGN_TYPE: 'MD5' },
      { Sign: 'x', Sign_Type: 'RSA2' },
      { sIgN: 'x', sign_TYPE: 'MD5' },
      // Java's equalsIgnoreCase also matches dotless i and long s (upper-case I and S).
      { sıgn: 'x', ſign_type: 'MD5' },
      { SİGN: 'x', SİGN_TYPE: 'MD5' },
    ]) {
      assert.equal(preSignString({ ...V5, ...extra }), plain, JSON.stringify(extra));
      assert.equal(md5.verify({ ...V5, ...extra }, 'a5d935f037683e1a737753471441dd0c'), true);
    }
    // Other keys that merely contain the words stay.
    assert.match(preSignString({ ...V5, signs: 'x' }), /&signs=x&/);
    assert.match(preSignString({ ...V5, sign_typ: 'x' }), /&sign_typ=x&/);
    assert.match(preSignString({ ...V5, 'sign type': 'x' }), /&sign type=x&/);
    assert.match(preSignString({ ...V5, signß: 'x' }), /signß=x/);
  });

  it('V5 CANCEL business node', () => {
    assert.equal(
      preSignString(V5),
      'action=refund&out_trade_no=2024010100000000001&result_code=SUCCESS&retry_flag=N&trade_no=2024010122001300000000000001',
    );
    assert.equal(md5.sign(V5), 'a5d935f037683e1a737753471441dd0c');
  });
});

describe('MD5 signer', () => {
  it('equals a bare md5 of pre-sign + key, in lower-case hex', () => {
    const bare = createHash('md5')
      .update(preSignString(V1) + MADE_UP_KEY, 'utf8')
      .digest('hex');
    assert.equal(md5.sign(V1), bare);
  });

  it('verifies case-insensitively and refuses tampering, wrong length and non-hex', () => {
    assert.equal(md5.verify(V5, 'A5D935F037683E1A737753471441DD0C'), true);
    assert.equal(md5.verify({ ...V5, action: 'close' }, 'a5d935f037683e1a737753471441dd0c'), false);
    assert.equal(md5.verify(V5, 'a5d935f037683e1a737753471441dd0'), false);
    assert.equal(md5.verify(V5, 'z5d935f037683e1a737753471441dd0c'), false);
    assert.equal(md5.verify(V5, ''), false);
  });

  it('refuses an empty key or one with whitespace, naming the label', () => {
    assert.throws(() => createMd5Signer('', 'ALIPAY_MD5_KEY'), {
      code: 'ALIPAY_KEY_CONFIG',
      keyLabel: 'ALIPAY_MD5_KEY',
    });
    assert.throws(
      () => createMd5Signer(`${MADE_UP_KEY}\n`, 'ALIPAY_MD5_KEY'),
      (err: Error) =>
        err.message.startsWith('ALIPAY_MD5_KEY') && !err.message.includes(MADE_UP_KEY),
    );
  });

  it('never exposes the key through JSON or inspection', () => {
    assert.ok(!JSON.stringify(md5).includes(MADE_UP_KEY));
    assert.ok(!inspect(md5, { showHidden: true, depth: 5 }).includes(MADE_UP_KEY));
  });
});

describe('pre-sign string invariants (property-based)', () => {
  const key = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== '__proto__');
  const value = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.constant(''),
    fc.constant(null),
    fc.constant(undefined),
  );
  const params = fc.dictionary(key, value, { maxKeys: 12 }) as fc.Arbitrary<Params>;

  it('does not depend on insertion order', () => {
    fc.assert(
      fc.property(params, (p) => {
        const reversed = Object.fromEntries(Object.entries(p).reverse()) as Params;
        assert.equal(preSignString(reversed), preSignString(p));
      }),
    );
  });

  it('drops empty values and excludes sign / sign_type', () => {
    fc.assert(
      fc.property(params, fc.string(), fc.string(), (p, sign, signType) => {
        const withExtras: Params = {
          ...p,
          sign,
          sign_type: signType,
          empty_a: '',
          empty_b: null,
          empty_c: undefined,
        };
        const kept = Object.fromEntries(
          Object.entries(p).filter(
            ([k, v]) =>
              v !== '' && v !== null && v !== undefined && k !== 'sign' && k !== 'sign_type',
          ),
        ) as Params;
        assert.equal(preSignString(withExtras), preSignString(kept));
      }),
    );
  });

  it('sorts keys in ascending UTF-8 byte order', () => {
    fc.assert(
      fc.property(params, (p) => {
        const keys = Object.entries(p)
          .filter(
            ([k, v]) =>
              v !== '' && v !== null && v !== undefined && k !== 'sign' && k !== 'sign_type',
          )
          .map(([k]) => k);
        const expected = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        const sorted = expected.map((k) => `${k}=${p[k] as string}`).join('&');
        assert.equal(preSignString(p), sorted);
      }),
    );
  });

  it('uses byte order, not UTF-16 order, for non-ASCII keys', () => {
    // U+FF21 (EF BC A1) sorts before U+1F600 (F0 9F 98 80) in UTF-8, after it in UTF-16.
    assert.equal(
      preSignString({ '\u{1F600}': '2', '\uFF21': '1', A: '0', _x: '3' }),
      'A=0&_x=3&\uFF21=1&\u{1F600}=2',
    );
  });
});

describe('RSA / RSA2 signers', () => {
  const merchant = testKeyPair('merchant');
  const alipay = testKeyPair('alipay');
  const params: Params = { ...V2, refund_reason: '顾客退货 & more' };

  for (const signType of ['RSA', 'RSA2'] as const) {
    it(`${signType}: round trip between merchant and Alipay, tampering refused`, () => {
      const engine = createRsaSigner({
        signType,
        privateKey: merchant.pkcs8PrivatePem,
        peerPublicKey: alipay.spkiPublicPem,
      });
      const gateway = createRsaSigner({
        signType,
        privateKey: alipay.pkcs1PrivatePem,
        peerPublicKey: merchant.pkcs1PublicPem,
      });
      const requestSig = engine.sign(params);
      assert.match(requestSig, /^[A-Za-z0-9+/]+={0,2}$/);
      assert.equal(gateway.verify(params, requestSig), true);
      assert.equal(gateway.verify({ ...params, refund_amount: '12.51' }, requestSig), false);
      const answerSig = gateway.sign(V5);
      assert.equal(engine.verify(V5, answerSig), true);
      assert.equal(engine.verify({ ...V5, action: 'close' }, answerSig), false);
      // A signature made by ourselves is not the peer's.
      assert.equal(engine.verify(V5, engine.sign(V5)), false);
    });

    it(`${signType}: bare base64 DER keys (PKCS#8 / PKCS#1 private, SPKI / PKCS#1 public)`, () => {
      for (const privateKey of [
        merchant.pkcs8PrivateBase64,
        merchant.pkcs1PrivateBase64,
        merchant.privateKey,
      ]) {
        for (const peerPublicKey of [
          merchant.spkiPublicBase64,
          merchant.pkcs1PublicBase64,
          Buffer.from(merchant.spkiPublicBase64, 'base64'),
        ]) {
          const s = createRsaSigner({ signType, privateKey, peerPublicKey });
          assert.equal(s.verify(params, s.sign(params)), true);
        }
      }
    });

    it(`${signType}: signs the charset's bytes (GBK differs from UTF-8)`, () => {
      const s = createRsaSigner({
        signType,
        privateKey: merchant.privateKey,
        peerPublicKey: merchant.publicKey,
      });
      const gbkSig = s.sign(params, 'GBK');
      assert.equal(s.verify(params, gbkSig, 'GBK'), true);
      assert.equal(s.verify(params, gbkSig, 'UTF-8'), false);
    });

    it(`${signType}: restores '+' turned into a space, refuses garbage`, () => {
      const s = createRsaSigner({
        signType,
        privateKey: merchant.privateKey,
        peerPublicKey: merchant.publicKey,
      });
      let p: Params = params;
      for (let i = 0; !s.sign(p).includes('+'); i++) p = { ...params, n: String(i) };
      const sig = s.sign(p);
      assert.equal(s.verify(p, sig.replace(/\+/g, ' ')), true);
      assert.equal(s.verify(params, 'not base64 at all!'), false);
      assert.equal(s.verify(params, ''), false);
    });
  }

  it('RSA and RSA2 signatures are not interchangeable', () => {
    const rsa = createRsaSigner({
      signType: 'RSA',
      privateKey: merchant.privateKey,
      peerPublicKey: merchant.publicKey,
    });
    const rsa2 = createRsaSigner({
      signType: 'RSA2',
      privateKey: merchant.privateKey,
      peerPublicKey: merchant.publicKey,
    });
    assert.equal(rsa2.verify(params, rsa.sign(params)), false);
    assert.equal(rsa.verify(params, rsa2.sign(params)), false);
  });

  it('a verify-only signer refuses to sign with a clear key error', () => {
    const s = createRsaSigner({
      signType: 'RSA2',
      peerPublicKey: alipay.spkiPublicPem,
      peerPublicKeyLabel: 'ALIPAY_PUBLIC_KEY',
      privateKeyLabel: 'MERCHANT_PRIVATE_KEY',
    });
    assert.throws(() => s.sign(params), {
      code: 'ALIPAY_KEY_CONFIG',
      keyLabel: 'MERCHANT_PRIVATE_KEY',
    });
  });
});

describe('charset encoding used for signing', () => {
  it('signs text GBK cannot map as Java does: one "?" per character (gbk-java.test.ts has the table)', () => {
    assert.deepEqual(encode('smile \u{1F600}', 'GBK'), Buffer.from('smile ?'));
    assert.equal(md5.sign({ a: '\u{1F600}' }, 'GBK'), md5.sign({ a: '?' }, 'GBK'));
    assert.deepEqual(encode('a?b', 'GBK'), Buffer.from('a?b'));
  });
});
