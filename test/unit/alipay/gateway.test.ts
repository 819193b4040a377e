import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AlipayGateway } from '../../../src/alipay/gateway';
import type { GatewayConfig } from '../../../src/alipay/gateway-config';
import { parseForm } from '../../../src/alipay/form';
import { createMd5Signer, createRsaSigner } from '../../../src/alipay/signing';
import { renderGatewayResponse } from '../../../src/alipay/xml';
import type { QrCodeInput } from '../../../src/alipay/types';
import { parseCompactGmt8, parseGmt8 } from '../../../src/time';
import {
  CANCEL_XML,
  CREATE_XML,
  MADE_UP_KEY,
  MODIFYSTATUS_XML,
  QUERY_XML,
  REFUND_XML,
} from './fixtures';
import { testKeyPair } from './helpers';
import { startHttpPeer, type HttpPeer } from './http-peer';

const PARTNER = '2088101122136241';
const md5 = createMd5Signer(MADE_UP_KEY);

/** The V3 store: its biz_data is exactly the reference string. */
const DEMO_CAFE: QrCodeInput = {
  secondaryMerchantId: 'M0001',
  secondaryMerchantName: 'Demo Cafe',
  merchantCategoryCode: '5812',
  storeId: 'S01',
  storeName: 'Demo Cafe Central',
  pricingCurrency: 'USD',
  settlementCurrency: 'USD',
};

const V3_BIZ_DATA =
  '{"secondary_merchant_id":"M0001","secondary_merchant_name":"Demo Cafe","secondary_merchant_industry":"5812","store_id":"S01","store_name":"Demo Cafe Central","trans_currency":"USD","currency":"USD"}';

/** Independent form encoding (WHATWG URLSearchParams) for expected bodies. */
function form(pairs: [string, string][]): string {
  return new URLSearchParams(pairs).toString();
}

function md5Of(preSign: string): string {
  return createHash('md5')
    .update(preSign + MADE_UP_KEY, 'utf8')
    .digest('hex');
}

describe('AlipayGateway: exact bytes on the wire (MD5, POST)', () => {
  let peer: HttpPeer;
  let now = parseGmt8('2024-01-01 12:00:00');
  let gateway: AlipayGateway;
  const config = (): GatewayConfig => ({
    gatewayUrl: peer.gatewayUrl,
    partner: PARTNER,
    signType: 'MD5',
    md5Key: MADE_UP_KEY,
    notifyUrl: 'https://shop.example.com/alipay/notify',
  });

  before(async () => {
    peer = await startHttpPeer();
    gateway = new AlipayGateway(config(), { now: () => now });
  });
  after(async () => {
    await gateway.close();
    await peer.close();
  });
  beforeEach(() => {
    peer.requests.length = 0;
  });

  it('CREATE: V3 parameters and signature, _input_charset in the URL, the rest in the body', async () => {
    peer.reply(() => ({ body: CREATE_XML }));
    const result = await gateway.createQrCode(DEMO_CAFE);
    assert.deepEqual(result, {
      qrcode: 'https://qr.alipay.com/baxdemo0merchantqr000001',
      imageUrl: 'https://mobilecodec.alipay.com/show.htm?code=baxdemo0merchantqr000001&picSize=L',
    });
    const [req] = peer.requests;
    assert.ok(req);
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/gateway.do?_input_charset=UTF-8');
    assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded; charset=UTF-8');
    assert.equal(
      req.body.toString('latin1'),
      form([
        ['biz_data', V3_BIZ_DATA],
        ['biz_type', 'OVERSEASHOPQRCODE'],
        ['notify_url', 'https://shop.example.com/alipay/notify'],
        ['partner', PARTNER],
        ['service', 'alipay.commerce.qrcode.create'],
        ['timestamp', '2024-01-01 12:00:00'],
        ['sign_type', 'MD5'],
        ['sign', '86f0567c63034860d05d51d3884c3594'],
      ]),
    );
  });

  it('CREATE twice with the same input sends the same business parameters', async () => {
    peer.reply(() => ({ body: CREATE_XML }));
    await gateway.createQrCode(DEMO_CAFE);
    await gateway.createQrCode(DEMO_CAFE);
    assert.equal(peer.requests[0]?.body.toString(), peer.requests[1]?.body.toString());
  });

  it('MODIFY: full biz_data with channel fee, qrcode, signed', async () => {
    const qrcode = 'https://qr.alipay.com/baxdemo0merchantqr000001';
    peer.reply(() => ({
      body: renderGatewayResponse({
        request: { service: 'alipay.commerce.qrcode.modify', partner: PARTNER },
        business: { qrcode },
        businessNode: 'qrcodeinfo',
        signer: md5,
      }),
    }));
    const input: QrCodeInput = {
      ...DEMO_CAFE,
      channelFee: { type: 'FIXED', amount: { minor: 50, currency: 'USD' } },
    };
    assert.deepEqual(await gateway.modifyQrCode(qrcode, input), { qrcode });
    const fields = parseForm(peer.requests[0]?.body ?? Buffer.alloc(0), 'UTF-8');
    const bizData = V3_BIZ_DATA.replace(/}$/, ',"channel_fee":{"type":"FIXED","value":"0.50"}}');
    assert.equal(fields['biz_data'], bizData);
    assert.equal(fields['qrcode'], qrcode);
    const preSign = `_input_charset=UTF-8&biz_data=${bizData}&biz_type=OVERSEASHOPQRCODE&notify_url=https://shop.example.com/alipay/notify&partner=${PARTNER}&qrcode=${qrcode}&service=alipay.commerce.qrcode.modify&timestamp=2024-01-01 12:00:00`;
    assert.equal(fields['sign'], md5Of(preSign));
    assert.deepEqual(Object.keys(fields), [
      'biz_data',
      'biz_type',
      'notify_url',
      'partner',
      'qrcode',
      'service',
      'timestamp',
      'sign_type',
      'sign',
    ]);
  });

  it('MODIFYSTATUS: status STOP, answer of §8.3', async () => {
    now = parseGmt8('2024-01-02 09:00:00');
    peer.reply(() => ({ body: MODIFYSTATUS_XML }));
    const qrcode = 'https://qr.alipay.com/baxdemo0merchantqr000001';
    assert.deepEqual(await gateway.setQrCodeStatus(qrcode, 'STOP'), { qrcode, status: 'STOP' });
    const preSign = `_input_charset=UTF-8&biz_type=OVERSEASHOPQRCODE&notify_url=https://shop.example.com/alipay/notify&partner=${PARTNER}&qrcode=${qrcode}&service=alipay.commerce.qrcode.modifyStatus&status=STOP&timestamp=2024-01-02 09:00:00`;
    assert.equal(
      peer.requests[0]?.body.toString('latin1'),
      form([
        ['biz_type', 'OVERSEASHOPQRCODE'],
        ['notify_url', 'https://shop.example.com/alipay/notify'],
        ['partner', PARTNER],
        ['qrcode', qrcode],
        ['service', 'alipay.commerce.qrcode.modifyStatus'],
        ['status', 'STOP'],
        ['timestamp', '2024-01-02 09:00:00'],
        ['sign_type', 'MD5'],
        ['sign', md5Of(preSign)],
      ]),
    );
  });

  it('QUERY: partner_trans_id (+ alipay_trans_id), answer of §9.4 mapped to the domain', async () => {
    peer.reply(() => ({ body: QUERY_XML }));
    const result = await gateway.queryTrade({
      outTradeNo: '2024010100000000001',
      tradeNo: '2024010122001300000000000001',
    });
    assert.deepEqual(result, {
      status: 'TRADE_SUCCESS',
      amount: { minor: 880, currency: 'USD' },
      outTradeNo: '2024010100000000001',
      tradeNo: '2024010122001300000000000001',
      paidAt: parseCompactGmt8('20240101120508'),
      buyer: { loginId: '135****8888', userId: '2088722000000001' },
      exchangeRate: '7.12340000',
      amountCny: { minor: 6269, currency: 'CNY' },
      forexTotalFee: '8.80',
      forexRate: '1',
    });
    assert.equal(
      peer.requests[0]?.body.toString('latin1'),
      'alipay_trans_id=2024010122001300000000000001&partner=2088101122136241&partner_trans_id=2024010100000000001' +
        '&service=alipay.acquire.overseas.query&sign_type=MD5&sign=' +
        md5Of(
          '_input_charset=UTF-8&alipay_trans_id=2024010122001300000000000001&partner=2088101122136241&partner_trans_id=2024010100000000001&service=alipay.acquire.overseas.query',
        ),
    );
  });

  it('CANCEL: epoch-millisecond timestamp, answer of §10.4 (vector V5)', async () => {
    now = 1704081909123;
    peer.reply(() => ({ body: CANCEL_XML }));
    const result = await gateway.cancelTrade({ outTradeNo: '2024010100000000001' });
    assert.deepEqual(result, {
      action: 'refund',
      outTradeNo: '2024010100000000001',
      tradeNo: '2024010122001300000000000001',
    });
    const preSign = `_input_charset=UTF-8&out_trade_no=2024010100000000001&partner=${PARTNER}&service=alipay.acquire.cancel&timestamp=1704081909123`;
    assert.equal(
      peer.requests[0]?.body.toString('latin1'),
      `out_trade_no=2024010100000000001&partner=${PARTNER}&service=alipay.acquire.cancel&timestamp=1704081909123&sign_type=MD5&sign=${md5Of(preSign)}`,
    );
  });

  it('REFUND: is_sync=Y, amount formatted for the currency, answer of §11.4', async () => {
    peer.reply(() => ({ body: REFUND_XML }));
    const input = {
      outTradeNo: '2024010100000000001',
      refundId: 'RF-20240102-0001',
      amount: { minor: 330, currency: 'USD' },
    };
    assert.deepEqual(await gateway.refund(input), {
      refundId: 'RF-20240102-0001',
      outTradeNo: '2024010100000000001',
      tradeNo: '2024010122001300000000000001',
      amount: { minor: 330, currency: 'USD' },
      amountCny: { minor: 2344, currency: 'CNY' },
      exchangeRate: '7.10250000',
    });
    const preSign = `_input_charset=UTF-8&currency=USD&is_sync=Y&partner=${PARTNER}&partner_refund_id=RF-20240102-0001&partner_trans_id=2024010100000000001&refund_amount=3.30&service=alipay.acquire.overseas.spot.refund`;
    assert.equal(
      peer.requests[0]?.body.toString('latin1'),
      `currency=USD&is_sync=Y&partner=${PARTNER}&partner_refund_id=RF-20240102-0001&partner_trans_id=2024010100000000001&refund_amount=3.30&service=alipay.acquire.overseas.spot.refund&sign_type=MD5&sign=${md5Of(preSign)}`,
    );
    // Retrying the same refund sends byte-identical parameters (no timestamp on REFUND).
    await gateway.refund(input);
    assert.deepEqual(peer.requests[1]?.body, peer.requests[0]?.body);
  });

  it('REFUND with a Chinese reason: UTF-8 percent-encoding, signed over raw text', async () => {
    peer.reply(() => ({
      body: renderGatewayResponse({
        business: {
          result_code: 'SUCCESS',
          partner_refund_id: 'RF20240101000001-1',
          partner_trans_id: 'QR20240101000001',
          refund_amount: '12.50',
          currency: 'USD',
        },
        signer: md5,
      }),
    }));
    await gateway.refund({
      outTradeNo: 'QR20240101000001',
      refundId: 'RF20240101000001-1',
      amount: { minor: 1250, currency: 'USD' },
      reason: '顾客退货',
    });
    const body = peer.requests[0]?.body.toString('latin1') ?? '';
    assert.ok(body.includes('refund_reason=%E9%A1%BE%E5%AE%A2%E9%80%80%E8%B4%A7&'));
    const fields = parseForm(Buffer.from(body, 'latin1'), 'UTF-8');
    assert.equal(md5.verify({ ...fields, _input_charset: 'UTF-8' }, fields['sign'] ?? ''), true);
  });

  it('notify_verify: GET with every parameter in the query, plain-text answer', async () => {
    peer.reply(() => ({ headers: { 'content-type': 'text/plain' }, body: 'true' }));
    assert.equal(await gateway.verifyNotifyId('a1b2c3d4e5f60718293a4b5c6d7e8f90ab'), true);
    const preSign = `_input_charset=UTF-8&notify_id=a1b2c3d4e5f60718293a4b5c6d7e8f90ab&partner=${PARTNER}&service=notify_verify`;
    assert.equal(peer.requests[0]?.method, 'GET');
    assert.equal(
      peer.requests[0]?.url,
      `/gateway.do?_input_charset=UTF-8&notify_id=a1b2c3d4e5f60718293a4b5c6d7e8f90ab&partner=${PARTNER}&service=notify_verify&sign_type=MD5&sign=${md5Of(preSign)}`,
    );
    peer.reply(() => ({ body: 'false\n' }));
    assert.equal(await gateway.verifyNotifyId('a1b2c3d4e5f60718293a4b5c6d7e8f90ab'), false);
    peer.reply(() => ({ body: 'true' }));
    await gateway.verifyNotifyId('abc+/=');
    assert.ok(peer.requests[2]?.url.includes('notify_id=abc%2B%2F%3D&'));
  });
});

describe('AlipayGateway: GET method, GBK charset, RSA2', () => {
  it('GET puts everything (V1) in the query string', async () => {
    const peer = await startHttpPeer(() => ({
      body: renderGatewayResponse({
        request: { service: 'alipay.acquire.overseas.query' },
        business: {
          result_code: 'SUCCESS',
          alipay_trans_status: 'WAIT_BUYER_PAY',
          currency: 'JPY',
          trans_amount: '1200.00',
          partner_trans_id: 'QR20240101000001',
        },
        signer: md5,
      }),
    }));
    const gateway = new AlipayGateway({
      gatewayUrl: peer.gatewayUrl,
      partner: PARTNER,
      signType: 'MD5',
      md5Key: MADE_UP_KEY,
      method: 'GET',
    });
    try {
      const result = await gateway.queryTrade({ outTradeNo: 'QR20240101000001' });
      assert.deepEqual(
        result.amount,
        { minor: 1200, currency: 'JPY' },
        'superfluous zero decimals tolerated for JPY',
      );
      assert.equal(result.status, 'WAIT_BUYER_PAY');
      assert.equal(
        peer.requests[0]?.url,
        '/gateway.do?_input_charset=UTF-8&partner=2088101122136241&partner_trans_id=QR20240101000001&service=alipay.acquire.overseas.query&sign_type=MD5&sign=430c93faf8b653b7dc6552c2178ba530',
      );
      assert.equal(peer.requests[0]?.body.length, 0);
    } finally {
      await gateway.close();
      await peer.close();
    }
  });

  it('GBK: body percent-encoded in GBK, V2-style digest over GBK bytes, GBK answer verified', async () => {
    const peer = await startHttpPeer(() => ({
      headers: { 'content-type': 'text/xml; charset=GBK' },
      body: renderGatewayResponse({
        business: {
          result_code: 'SUCCESS',
          partner_refund_id: 'RF20240101000001-1',
          partner_trans_id: 'QR20240101000001',
          currency: 'USD',
          refund_amount: '12.50',
        },
        signer: md5,
        charset: 'GBK',
      }),
    }));
    const gateway = new AlipayGateway({
      gatewayUrl: peer.gatewayUrl,
      partner: PARTNER,
      signType: 'MD5',
      md5Key: MADE_UP_KEY,
      charset: 'GB2312',
    });
    try {
      await gateway.refund({
        outTradeNo: 'QR20240101000001',
        refundId: 'RF20240101000001-1',
        amount: { minor: 1250, currency: 'USD' },
        reason: '顾客退货',
      });
      const req = peer.requests[0];
      assert.equal(req?.url, '/gateway.do?_input_charset=GBK');
      assert.ok(req?.body.toString('latin1').includes('refund_reason=%B9%CB%BF%CD%CD%CB%BB%F5&'));
      const fields = parseForm(req?.body ?? Buffer.alloc(0), 'GBK');
      assert.equal(fields['refund_reason'], '顾客退货');
      assert.equal(
        md5.verify({ ...fields, _input_charset: 'GBK' }, fields['sign'] ?? '', 'GBK'),
        true,
      );
      assert.equal(
        md5.verify({ ...fields, _input_charset: 'GBK' }, fields['sign'] ?? '', 'UTF-8'),
        false,
      );
    } finally {
      await gateway.close();
      await peer.close();
    }
  });

  it('RSA2: the peer verifies our request with the merchant public key; we verify its answer', async () => {
    const merchant = testKeyPair('merchant');
    const alipay = testKeyPair('alipay');
    const alipaySide = createRsaSigner({
      signType: 'RSA2',
      privateKey: alipay.pkcs1PrivatePem,
      peerPublicKey: merchant.spkiPublicBase64,
    });
    let requestVerified = false;
    const peer = await startHttpPeer((req) => {
      const fields = parseForm(req.body, 'UTF-8');
      requestVerified = alipaySide.verify(
        { ...fields, _input_charset: 'UTF-8' },
        fields['sign'] ?? '',
      );
      return {
        body: renderGatewayResponse({
          request: { service: 'alipay.acquire.cancel', partner: PARTNER },
          business: {
            result_code: 'SUCCESS',
            action: 'close',
            out_trade_no: 'T1',
            retry_flag: 'N',
          },
          signer: alipaySide,
        }),
      };
    });
    const gateway = new AlipayGateway(
      {
        gatewayUrl: peer.gatewayUrl,
        partner: PARTNER,
        signType: 'RSA2',
        privateKey: merchant.pkcs8PrivateBase64,
        alipayPublicKey: alipay.spkiPublicPem,
      },
      { now: () => 1704081909123 },
    );
    try {
      assert.deepEqual(await gateway.cancelTrade({ outTradeNo: 'T1' }), {
        action: 'close',
        outTradeNo: 'T1',
      });
      assert.equal(requestVerified, true);
      assert.match(peer.requests[0]?.body.toString() ?? '', /&sign_type=RSA2&sign=[A-Za-z0-9%]+$/);
    } finally {
      await gateway.close();
      await peer.close();
    }
  });
});
