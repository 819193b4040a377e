import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlipayRequestValidationError } from '../../../src/alipay/errors';
import {
  buildCancel,
  buildCreateQrCode,
  buildNotifyVerify,
  buildRefund,
  type RequestContext,
} from '../../../src/alipay/requests';
import { createMd5Signer } from '../../../src/alipay/signing';
import { toWire } from '../../../src/alipay/transport';
import type { QrCodeInput } from '../../../src/alipay/types';
import { MADE_UP_KEY } from './fixtures';

const md5 = createMd5Signer(MADE_UP_KEY);
const ctx = (over: Partial<RequestContext> = {}): RequestContext => ({
  partner: '2088101122136241',
  charset: 'UTF-8',
  signer: md5,
  now: () => 1704081909123,
  cancelTimestamp: 'epochMs',
  refundReasonField: 'refund_reason',
  signNotifyVerify: true,
  ...over,
});

const STORE: QrCodeInput = {
  secondaryMerchantId: 'M0001',
  secondaryMerchantName: 'Demo Cafe',
  merchantCategoryCode: '5812',
  storeId: 'S01',
  storeName: 'Demo Cafe Central',
  pricingCurrency: 'USD',
  settlementCurrency: 'USD',
};

describe('request builders', () => {
  it('same inputs and clock -> identical signed parameters (retry safety)', () => {
    const refund = { outTradeNo: 'T1', refundId: 'R1', amount: { minor: 1, currency: 'USD' } };
    assert.deepEqual(buildRefund(refund, ctx()), buildRefund(refund, ctx()));
    assert.deepEqual(
      buildCancel({ outTradeNo: 'T1' }, ctx()),
      buildCancel({ outTradeNo: 'T1' }, ctx()),
    );
    assert.deepEqual(buildCreateQrCode(STORE, ctx()), buildCreateQrCode(STORE, ctx()));
  });

  it('[R] options: CANCEL timestamp as GMT+8 wall clock, hkapi refund_reson, unsigned notify_verify', () => {
    assert.equal(
      buildCancel({ outTradeNo: 'T1' }, ctx({ cancelTimestamp: 'gmt8' })).params['timestamp'],
      '2024-01-01 12:05:09',
    );
    const hk = buildRefund(
      { outTradeNo: 'T1', refundId: 'R1', amount: { minor: 100, currency: 'HKD' }, reason: 'r' },
      ctx({ refundReasonField: 'refund_reson' }),
    );
    assert.equal(hk.params['refund_reson'], 'r');
    assert.equal(hk.params['refund_reason'], undefined);
    const nv = buildNotifyVerify('n1', ctx({ signNotifyVerify: false }));
    assert.deepEqual(Object.keys(nv.params).sort(), [
      '_input_charset',
      'notify_id',
      'partner',
      'service',
    ]);
    assert.equal(nv.method, 'GET');
  });

  it('a refund reason is trimmed, not refused; blank after trimming means no reason', () => {
    const refund = (reason: string) =>
      buildRefund(
        { outTradeNo: 'T1', refundId: 'R1', amount: { minor: 100, currency: 'USD' }, reason },
        ctx(),
      );
    const spaced = refund('  cup broken \t');
    assert.equal(spaced.params['refund_reason'], 'cup broken');
    assert.equal(md5.verify(spaced.params, spaced.params['sign'] ?? ''), true);
    assert.deepEqual(spaced.params, refund('cup broken').params);
    assert.equal(refund('   ').params['refund_reason'], undefined);
    assert.throws(() => refund(' a\u0001b '), {
      name: 'AlipayRequestValidationError',
      field: 'reason',
    });
  });

  it('amounts are formatted per currency exponent (JPY integer, KWD 3 decimals)', () => {
    const amount = (minor: number, currency: string) =>
      buildRefund({ outTradeNo: 'T1', refundId: 'R1', amount: { minor, currency } }, ctx()).params[
        'refund_amount'
      ];
    assert.equal(amount(1200, 'JPY'), '1200');
    assert.equal(amount(1234, 'KWD'), '1.234');
    assert.equal(amount(5, 'USD'), '0.05');
  });

  it('biz_data carries every optional field in a fixed order', () => {
    const req = buildCreateQrCode(
      {
        ...STORE,
        settlementCurrency: 'CNY',
        serviceProviderId: 'ISV1',
        channelFee: { type: 'RATE', rate: '0.02' },
        countryCode: 'US',
        address: '1 Main St',
        passback: { order: 'A1' },
        notifyMobile: '85212345678',
        showMemo: true,
        notificationSignType: 'MD5',
        notificationCharset: 'UTF-8',
        notifyUrl: 'https://shop.example.com/n?a=1&b=2',
      },
      ctx(),
    );
    assert.equal(
      req.params['biz_data'],
      '{"secondary_merchant_id":"M0001","secondary_merchant_name":"Demo Cafe","secondary_merchant_industry":"5812","store_id":"S01","store_name":"Demo Cafe Central","trans_currency":"USD","currency":"CNY","sys_service_provider_id":"ISV1","channel_fee":{"type":"RATE","value":"0.02"},"country_code":"US","address":"1 Main St","passback_parameters":{"order":"A1"},"notify_mobile":"85212345678","is_show_memo":"true","notify_sign_type":"MD5","notify_charset":"UTF-8"}',
    );
    assert.equal(req.params['notify_url'], 'https://shop.example.com/n?a=1&b=2');
    assert.equal(req.params['sign'], md5.sign(req.params));
  });

  it('refuses a notify_url over 200 characters or not http(s)', () => {
    for (const notifyUrl of [
      `https://x.example/${'a'.repeat(190)}`,
      'ftp://x.example/n',
      'not a url',
    ]) {
      assert.throws(
        () => buildCreateQrCode({ ...STORE, notifyUrl }, ctx()),
        (e: unknown) => e instanceof AlipayRequestValidationError && e.field === 'notifyUrl',
      );
    }
  });

  it('toWire appends to a gateway URL that already has a query string', () => {
    const wire = toWire(
      buildNotifyVerify('n1', ctx()),
      'http://127.0.0.1:1/gateway.do?tenant=a',
      'POST',
      'UTF-8',
    );
    assert.equal(wire.method, 'GET');
    assert.ok(
      wire.url.startsWith(
        'http://127.0.0.1:1/gateway.do?tenant=a&_input_charset=UTF-8&notify_id=n1&',
      ),
    );
    const post = toWire(
      buildCancel({ outTradeNo: 'T1' }, ctx()),
      'http://127.0.0.1:1/gateway.do?tenant=a',
      'POST',
      'UTF-8',
    );
    assert.equal(post.url, 'http://127.0.0.1:1/gateway.do?tenant=a&_input_charset=UTF-8');
  });
});
