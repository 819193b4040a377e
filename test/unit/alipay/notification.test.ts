import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import iconv from 'iconv-lite';
import { NotificationFormatError, NotificationSignatureError } from '../../../src/alipay/errors';
import {
  buildNotificationBody,
  parseNotificationBody,
  readNotification,
  verifyNotification,
} from '../../../src/alipay/notification';
import { createMd5Signer, createRsaSigner } from '../../../src/alipay/signing';
import { parseGmt8 } from '../../../src/time';
import { MADE_UP_KEY, V4_NOTIFICATION_FIELDS } from './fixtures';
import { testKeyPair } from './helpers';

const md5 = createMd5Signer(MADE_UP_KEY);

/** The §12.3 example body, one line, exactly as on the wire. */
const WIRE_BODY =
  'notify_id=a1b2c3d4e5f60718293a4b5c6d7e8f90ab&notify_time=2024-01-01+12%3A05%3A09' +
  '&notify_type=trade_status_sync&trade_no=2024010122001300000000000001' +
  '&out_trade_no=2024010100000000001&trade_status=TRADE_SUCCESS&total_fee=8.80&currency=USD' +
  '&sign_type=MD5&sign=c7845fd892a4ba3cb5c3e9baf3ff1ca0';

const FIELDS = {
  ...V4_NOTIFICATION_FIELDS,
};

function formatError(fn: () => unknown, reason: NotificationFormatError['reason']): void {
  assert.throws(
    fn,
    (err: unknown) => err instanceof NotificationFormatError && err.reason === reason,
  );
}

function signatureError(fn: () => unknown, reason: NotificationSignatureError['reason']): void {
  assert.throws(
    fn,
    (err: unknown) => err instanceof NotificationSignatureError && err.reason === reason,
  );
}

describe('notification parsing and verification', () => {
  it('reads the §12.3 wire example (= vector V4) into domain fields', () => {
    const n = readNotification(Buffer.from(WIRE_BODY), {
      signer: md5,
      contentType: 'application/x-www-form-urlencoded; charset=UTF-8',
    });
    assert.equal(n.notifyId, 'a1b2c3d4e5f60718293a4b5c6d7e8f90ab');
    assert.equal(n.notifyTime, parseGmt8('2024-01-01 12:05:09'));
    assert.equal(n.notifyType, 'trade_status_sync');
    assert.equal(n.tradeStatus, 'TRADE_SUCCESS');
    assert.equal(n.tradeNo, '2024010122001300000000000001');
    assert.equal(n.outTradeNo, '2024010100000000001');
    assert.equal(n.totalFee, '8.80');
    assert.deepEqual(n.amount, { minor: 880, currency: 'USD' });
    assert.equal(n.signType, 'MD5');
    assert.equal(n.charset, 'UTF-8');
    assert.equal(n.rawFields['sign'], 'c7845fd892a4ba3cb5c3e9baf3ff1ca0');
    assert.equal('memo' in n, false, 'absent fields are absent, not undefined keys');
  });

  it('buildNotificationBody produces exactly the §12.3 wire bytes', () => {
    assert.equal(buildNotificationBody(FIELDS, md5).toString('latin1'), WIRE_BODY);
  });

  it('keeps unknown fields and verifies over them; empty fields are not signed', () => {
    const body = buildNotificationBody(
      { ...FIELDS, body: '', brand_new_field: 'x y&z=1', passback_parameters: '{"k":"v"}' },
      md5,
    );
    const n = readNotification(body, { signer: md5 });
    assert.equal(n.rawFields['brand_new_field'], 'x y&z=1');
    assert.equal(n.rawFields['body'], '');
    assert.equal(n.passbackParameters, '{"k":"v"}');
    // V4: the extra empty body is sent but does not change the signature.
    const v4 = buildNotificationBody({ ...FIELDS, body: '' }, md5).toString('latin1');
    assert.match(v4, /&body=&sign_type=MD5&sign=c7845fd892a4ba3cb5c3e9baf3ff1ca0$/);
  });

  it('GBK bodies: percent-escapes decoded as GBK, signature over GBK bytes', () => {
    const fields = { ...FIELDS, subject: '咖啡 两杯', store_id: 'S01' };
    const body = buildNotificationBody(fields, md5, 'GBK');
    assert.ok(
      body
        .toString('latin1')
        .includes(
          `subject=${[...iconv.encode('咖啡', 'gbk')].map((b) => `%${b.toString(16).toUpperCase()}`).join('')}+`,
        ),
    );
    const n = readNotification(body, {
      signer: md5,
      contentType: 'application/x-www-form-urlencoded; charset=GBK',
    });
    assert.equal(n.subject, '咖啡 两杯');
    assert.equal(n.charset, 'GBK');
    // Configured charset applies when the header declares none.
    assert.equal(readNotification(body, { signer: md5, charset: 'GBK' }).subject, '咖啡 两杯');
  });

  it('wrong charset: GBK bytes declared as UTF-8 are refused as a charset error', () => {
    const body = buildNotificationBody({ ...FIELDS, subject: '咖啡' }, md5, 'GBK');
    formatError(
      () =>
        readNotification(body, {
          signer: md5,
          contentType: 'application/x-www-form-urlencoded; charset=UTF-8',
        }),
      'CHARSET',
    );
    formatError(
      () => readNotification(body, { signer: md5, contentType: 'text/plain; charset=latin9' }),
      'CHARSET',
    );
  });

  it('charset mismatch that still decodes fails the signature (UTF-8 signed, read as GBK)', () => {
    const body = buildNotificationBody({ ...FIELDS, subject: '咖啡店' }, md5, 'UTF-8');
    assert.throws(
      () => readNotification(body, { signer: md5, charset: 'GBK' }),
      (err: unknown) =>
        err instanceof NotificationFormatError || err instanceof NotificationSignatureError,
    );
  });

  it('refuses a duplicated key (even with identical values)', () => {
    formatError(
      () =>
        readNotification(Buffer.from(`${WIRE_BODY}&trade_status=TRADE_SUCCESS`), { signer: md5 }),
      'DUPLICATE_FIELD',
    );
    formatError(
      () => readNotification(Buffer.from(`total_fee=1.00&${WIRE_BODY}`), { signer: md5 }),
      'DUPLICATE_FIELD',
    );
  });

  it('missing, tampered or foreign signatures', () => {
    signatureError(
      () =>
        readNotification(Buffer.from(WIRE_BODY.replace(/&sign=[0-9a-f]+/, '')), { signer: md5 }),
      'MISSING_SIGN',
    );
    signatureError(
      () =>
        readNotification(Buffer.from(WIRE_BODY.replace('total_fee=8.80', 'total_fee=0.01')), {
          signer: md5,
        }),
      'BAD_SIGNATURE',
    );
    signatureError(
      () =>
        readNotification(Buffer.from(WIRE_BODY.replace('sign_type=MD5', 'sign_type=RSA2')), {
          signer: md5,
        }),
      'SIGN_TYPE_MISMATCH',
    );
    const otherKey = createMd5Signer('0000000000000000000000000000000a');
    signatureError(
      () => readNotification(Buffer.from(WIRE_BODY), { signer: otherKey }),
      'BAD_SIGNATURE',
    );
  });

  it('malformed bodies: empty, oversized, bad escapes, nameless field, missing notify_id', () => {
    formatError(() => readNotification(Buffer.alloc(0), { signer: md5 }), 'EMPTY');
    formatError(
      () => readNotification(Buffer.alloc(70 * 1024, 0x61), { signer: md5 }),
      'TOO_LARGE',
    );
    formatError(
      () => readNotification(Buffer.from(`${WIRE_BODY}&x=%zz`), { signer: md5 }),
      'MALFORMED_ENCODING',
    );
    formatError(
      () => readNotification(Buffer.from(`${WIRE_BODY}&x=%4`), { signer: md5 }),
      'MALFORMED_ENCODING',
    );
    formatError(
      () => readNotification(Buffer.from(`${WIRE_BODY}&=orphan`), { signer: md5 }),
      'MALFORMED_ENCODING',
    );
    const { notify_id: _drop, ...withoutId } = FIELDS;
    formatError(
      () => readNotification(buildNotificationBody(withoutId, md5), { signer: md5 }),
      'MISSING_FIELD',
    );
  });

  it('tolerates empty segments and a trailing &', () => {
    const n = readNotification(Buffer.from(`&${WIRE_BODY.replace('&currency', '&&currency')}&`), {
      signer: md5,
    });
    assert.equal(n.currency, 'USD');
  });

  it('unrecognised status and unparsable amounts are kept verbatim, not guessed', () => {
    const n = readNotification(
      buildNotificationBody({ ...FIELDS, trade_status: 'TRADE_PENDING', total_fee: '8.805' }, md5),
      { signer: md5 },
    );
    assert.equal(n.tradeStatus, 'UNRECOGNISED');
    assert.equal(n.totalFee, '8.805');
    assert.equal(n.amount, undefined);
    assert.equal(n.rawFields['trade_status'], 'TRADE_PENDING');
  });

  for (const signType of ['RSA', 'RSA2'] as const) {
    it(`${signType}: verifies with Alipay's public key, repairs '+' turned into ' '`, () => {
      const alipay = testKeyPair('alipay');
      const merchant = testKeyPair('merchant');
      const gateway = createRsaSigner({
        signType,
        privateKey: alipay.privateKey,
        peerPublicKey: merchant.publicKey,
      });
      const engine = createRsaSigner({
        signType,
        privateKey: merchant.privateKey,
        peerPublicKey: alipay.publicKey,
      });
      let fields: Record<string, string> = { ...FIELDS };
      for (let i = 0; !gateway.sign(fields).includes('+'); i++)
        fields = { ...FIELDS, memo: String(i) };
      const body = buildNotificationBody(fields, gateway);
      assert.equal(readNotification(body, { signer: engine }).signType, signType);
      // A proxy that decoded and re-encoded the form without escaping '+' in the sign.
      const sign = gateway.sign(fields);
      const broken = body.toString('latin1').replace(/sign=.*$/, `sign=${sign}`);
      const form = parseNotificationBody(Buffer.from(broken, 'latin1'));
      assert.ok(form.fields['sign']?.includes(' '));
      assert.equal(verifyNotification(form, engine), signType);
      signatureError(() => readNotification(body, { signer: gateway }), 'BAD_SIGNATURE');
    });
  }
});
