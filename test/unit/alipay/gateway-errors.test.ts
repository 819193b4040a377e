import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MockAgent, errors as undiciErrors } from 'undici';
import {
  AlipayBusinessError,
  AlipayGatewayError,
  AlipayOutcomeUnknownError,
  AlipayRequestValidationError,
  AlipayResponseError,
  AlipayResponseMismatchError,
  AlipayRetryableBusinessError,
  AlipayServiceError,
  AlipaySignatureError,
  AlipaySystemError,
  AlipayTimeoutError,
  AlipayTransportError,
  AlipayUnknownCodeError,
  GatewayConfigError,
  KeyConfigError,
  NON_RETRYABLE_ALIPAY_ERRORS,
} from '../../../src/alipay/errors';
import { AlipayGateway } from '../../../src/alipay/gateway';
import { createMd5Signer, type Params } from '../../../src/alipay/signing';
import { renderGatewayResponse } from '../../../src/alipay/xml';
import { CANCEL_XML, MADE_UP_KEY, QUERY_XML } from './fixtures';
import { testKeyPair } from './helpers';
import { startHttpPeer, type HttpPeer, type Reply } from './http-peer';

const PARTNER = '2088101122136241';
const md5 = createMd5Signer(MADE_UP_KEY);
const REF = { outTradeNo: '2024010100000000001', tradeNo: '2024010122001300000000000001' };
const REFUND = {
  outTradeNo: REF.outTradeNo,
  refundId: 'RF-1',
  amount: { minor: 330, currency: 'USD' },
};

type ErrorClass = abstract new (...args: never[]) => AlipayServiceError;

/** Awaits a typed failure and checks the invariants every gateway error must hold. */
async function failsWith<E extends AlipayServiceError>(
  promise: Promise<unknown>,
  cls: ErrorClass,
  expect: Partial<
    Pick<E, 'retryable' | 'outcomeUnknown' | 'alipayCode' | 'httpStatus' | 'service'>
  > = {},
): Promise<E> {
  const err = await promise.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
  const e = err as E;
  for (const [k, v] of Object.entries(expect))
    assert.equal(e[k as keyof E], v, `${k} of ${e.message}`);
  assert.equal(e.name, cls.name);
  assert.equal(
    NON_RETRYABLE_ALIPAY_ERRORS.includes(e.name),
    !e.retryable,
    'retry policy list agrees with the class',
  );
  const serialized = `${e.message} ${JSON.stringify(e)} ${String(e.stack)}`;
  assert.ok(!serialized.includes(MADE_UP_KEY), 'key leaked');
  assert.ok(!/sign=[0-9a-f]{32}/.test(serialized), 'signature leaked');
  assert.ok(!serialized.includes('?_input_charset'), 'URL leaked');
  return e;
}

function signed(business: Params, service?: string): Reply {
  return {
    body: renderGatewayResponse({
      request: service ? { service, partner: PARTNER } : undefined,
      business,
      signer: md5,
    }),
  };
}

describe('error taxonomy', () => {
  let peer: HttpPeer;
  let gateway: AlipayGateway;

  before(async () => {
    peer = await startHttpPeer();
    gateway = new AlipayGateway(
      {
        gatewayUrl: peer.gatewayUrl,
        partner: PARTNER,
        signType: 'MD5',
        md5Key: MADE_UP_KEY,
        readTimeoutMs: 300,
        connectTimeoutMs: 300,
      },
      { now: () => 1704081909123 },
    );
  });
  after(async () => {
    await gateway.close();
    await peer.close();
  });
  beforeEach(() => {
    peer.requests.length = 0;
  });

  it('is_success=F SYSTEM_ERROR: retryable; outcome unknown only for money-moving calls', async () => {
    peer.reply(() => ({
      body: renderGatewayResponse({ isSuccess: false, error: 'SYSTEM_ERROR', signer: md5 }),
    }));
    await failsWith(gateway.queryTrade(REF), AlipaySystemError, {
      retryable: true,
      outcomeUnknown: false,
      alipayCode: 'SYSTEM_ERROR',
    });
    const e = await failsWith<AlipaySystemError>(gateway.refund(REFUND), AlipaySystemError, {
      retryable: true,
      outcomeUnknown: true,
    });
    assert.equal(e.level, 'gateway');
    assert.deepEqual(e.ids, { outTradeNo: REF.outTradeNo, refundId: 'RF-1' });
  });

  it('is_success=F ILLEGAL_SIGN (unsigned, as in the real example): final gateway error', async () => {
    peer.reply(() => ({
      body: '<alipay><is_success>F</is_success><error>ILLEGAL_SIGN</error></alipay>',
    }));
    const e = await failsWith(gateway.cancelTrade(REF), AlipayGatewayError, {
      retryable: false,
      alipayCode: 'ILLEGAL_SIGN',
      service: 'alipay.acquire.cancel',
    });
    assert.match(e.message, /outTradeNo=2024010100000000001/);
  });

  it('is_success=F with an unknown code, or without a code: final and loud', async () => {
    peer.reply(() => ({
      body: '<alipay><is_success>F</is_success><error>BRAND_NEW_CODE</error></alipay>',
    }));
    await failsWith(gateway.queryTrade(REF), AlipayUnknownCodeError, {
      retryable: false,
      alipayCode: 'BRAND_NEW_CODE',
    });
    peer.reply(() => ({ body: '<alipay><is_success>F</is_success></alipay>' }));
    await failsWith(gateway.queryTrade(REF), AlipayUnknownCodeError, { retryable: false });
  });

  it('CANCEL result_code=FAIL: retry_flag Y is retryable, N is final', async () => {
    peer.reply(() =>
      signed({
        result_code: 'FAIL',
        error: 'SYSTEM_ERROR',
        retry_flag: 'Y',
        out_trade_no: REF.outTradeNo,
      }),
    );
    await failsWith(gateway.cancelTrade(REF), AlipayRetryableBusinessError, {
      retryable: true,
      alipayCode: 'SYSTEM_ERROR',
    });
    peer.reply(() =>
      signed({
        result_code: 'FAIL',
        error: 'TRADE_STATUS_ERROR',
        retry_flag: 'N',
        detail_error_des: 'not today',
      }),
    );
    const e = await failsWith(gateway.cancelTrade(REF), AlipayBusinessError, {
      retryable: false,
      alipayCode: 'TRADE_STATUS_ERROR',
    });
    assert.equal(e.alipayDetail, 'not today');
    peer.reply(() => signed({ result_code: 'FAIL', error: 'WHO_KNOWS', retry_flag: 'N' }));
    await failsWith(gateway.cancelTrade(REF), AlipayUnknownCodeError, { retryable: false });
  });

  it('REFUND amount/status codes are final; SYSTEM_ERROR retryable with unknown outcome', async () => {
    for (const code of [
      'REQUEST_AMOUNT_EXCEED',
      'RETURN_AMOUNT_EXCEED',
      'REFUND_AMT_RESTRICTION',
      'TRADE_STATUS_ERROR',
      'TRADE_HAS_CLOSE',
    ]) {
      peer.reply(() => signed({ result_code: 'FAIL', error: code, partner_refund_id: 'RF-1' }));
      await failsWith(gateway.refund(REFUND), AlipayBusinessError, {
        retryable: false,
        alipayCode: code,
        outcomeUnknown: false,
      });
    }
    peer.reply(() => signed({ result_code: 'FAIL', error: 'SYSTEM_ERROR' }));
    await failsWith(gateway.refund(REFUND), AlipaySystemError, {
      retryable: true,
      outcomeUnknown: true,
    });
  });

  it('result_code=UNKNOWN: retryable, outcome unknown', async () => {
    peer.reply(() => signed({ result_code: 'UNKNOWN', partner_refund_id: 'RF-1' }));
    await failsWith(gateway.refund(REFUND), AlipayOutcomeUnknownError, {
      retryable: true,
      outcomeUnknown: true,
    });
  });

  it('unknown business code, unknown result_code, unknown trade status, unknown cancel action', async () => {
    peer.reply(() => signed({ result_code: 'FAIL', error: 'SOMETHING_NEW' }));
    await failsWith(gateway.queryTrade(REF), AlipayUnknownCodeError, {
      alipayCode: 'SOMETHING_NEW',
    });
    peer.reply(() => signed({ result_code: 'PARTIAL' }));
    await failsWith(gateway.queryTrade(REF), AlipayUnknownCodeError, { alipayCode: 'PARTIAL' });
    peer.reply(() =>
      signed({
        result_code: 'SUCCESS',
        partner_trans_id: REF.outTradeNo,
        alipay_trans_status: 'TRADE_PENDING',
        currency: 'USD',
        trans_amount: '1.00',
      }),
    );
    await failsWith(gateway.queryTrade(REF), AlipayUnknownCodeError, {
      alipayCode: 'TRADE_PENDING',
    });
    peer.reply(() =>
      signed({ result_code: 'SUCCESS', action: 'partial', out_trade_no: REF.outTradeNo }),
    );
    await failsWith(gateway.cancelTrade(REF), AlipayUnknownCodeError, {
      alipayCode: 'partial',
      outcomeUnknown: true,
    });
  });

  it('read timeout: retryable; outcome unknown for CANCEL/REFUND, not for QUERY', async () => {
    peer.reply(() => 'hang');
    const q = await failsWith<AlipayTimeoutError>(gateway.queryTrade(REF), AlipayTimeoutError, {
      retryable: true,
      outcomeUnknown: false,
    });
    assert.equal(q.phase, 'read');
    await failsWith(gateway.cancelTrade(REF), AlipayTimeoutError, {
      retryable: true,
      outcomeUnknown: true,
    });
    await failsWith(gateway.refund(REFUND), AlipayTimeoutError, {
      retryable: true,
      outcomeUnknown: true,
    });
  });

  it('HTTP 5xx: retryable transport error, sent once (no automatic retry)', async () => {
    peer.reply(() => ({ status: 502, body: '<html>Bad Gateway</html>' }));
    await failsWith(gateway.refund(REFUND), AlipayTransportError, {
      retryable: true,
      httpStatus: 502,
      outcomeUnknown: true,
    });
    assert.equal(peer.requests.length, 1);
    peer.reply(() => ({ status: 404, body: 'not here' }));
    await failsWith(gateway.queryTrade(REF), AlipayGatewayError, {
      retryable: false,
      httpStatus: 404,
    });
  });

  it('non-XML, truncated, oversized and DOCTYPE answers: retryable bad response', async () => {
    for (const body of [
      '<html><body>maintenance</body></html>',
      'OK',
      CANCEL_XML.slice(0, 200),
      `<!DOCTYPE x [<!ENTITY a "b">]>${CANCEL_XML.replace(/^<\?xml[^>]*>\n/, '')}`,
      '',
    ]) {
      peer.reply(() => ({ body }));
      await failsWith(gateway.cancelTrade(REF), AlipayResponseError, {
        retryable: true,
        outcomeUnknown: true,
      });
    }
    peer.reply(() => ({ body: Buffer.alloc(300 * 1024, 0x20) }));
    await failsWith(gateway.queryTrade(REF), AlipayResponseError, { retryable: true });
    peer.reply(() => ({ body: '<alipay><is_success>T</is_success><sign>x</sign></alipay>' }));
    await failsWith(gateway.queryTrade(REF), AlipayResponseError);
  });

  it('wrong echoed service, partner or IDs: final mismatch', async () => {
    peer.reply(() => ({ body: CANCEL_XML }));
    await failsWith(gateway.queryTrade(REF), AlipayResponseMismatchError, { retryable: false });
    peer.reply(() => ({
      body: renderGatewayResponse({
        request: { service: 'alipay.acquire.overseas.query', partner: '2088999999999999' },
        business: { result_code: 'SUCCESS' },
        signer: md5,
      }),
    }));
    await failsWith(gateway.queryTrade(REF), AlipayResponseMismatchError);
    peer.reply(() => ({ body: QUERY_XML }));
    await failsWith(
      gateway.queryTrade({ outTradeNo: 'ANOTHER-TRADE' }),
      AlipayResponseMismatchError,
    );
    peer.reply(() =>
      signed({
        result_code: 'SUCCESS',
        partner_refund_id: 'RF-1',
        refund_amount: '3.00',
        currency: 'USD',
      }),
    );
    // A signed SUCCESS for another amount: money may have moved, so the outcome is unknown.
    await failsWith(gateway.refund(REFUND), AlipayResponseMismatchError, { outcomeUnknown: true });
  });

  it('bad, missing or foreign response signature: final signature error', async () => {
    peer.reply(() => ({
      body: CANCEL_XML.replace('<action>refund</action>', '<action>close</action>'),
    }));
    await failsWith(gateway.cancelTrade(REF), AlipaySignatureError, {
      retryable: false,
      outcomeUnknown: true,
    });
    peer.reply(() => ({ body: renderGatewayResponse({ business: { result_code: 'SUCCESS' } }) }));
    await failsWith(gateway.queryTrade(REF), AlipaySignatureError, { outcomeUnknown: false });
    const other = createMd5Signer('0123456789abcdef0123456789abcdef');
    peer.reply(() => ({
      body: renderGatewayResponse({ business: { result_code: 'SUCCESS' }, signer: other }),
    }));
    await failsWith(gateway.queryTrade(REF), AlipaySignatureError);
  });

  it('notify_verify: an F answer is classified, anything but true/false is a bad response', async () => {
    peer.reply(() => ({
      body: '<alipay><is_success>F</is_success><error>ILLEGAL_SIGN</error></alipay>',
    }));
    await failsWith(gateway.verifyNotifyId('abc'), AlipayGatewayError, {
      alipayCode: 'ILLEGAL_SIGN',
      service: 'notify_verify',
    });
    peer.reply(() => ({ body: 'maybe' }));
    await failsWith(gateway.verifyNotifyId('abc'), AlipayResponseError);
    peer.reply(() => ({ body: 'TRUE' }));
    await failsWith(gateway.verifyNotifyId('abc'), AlipayResponseError);
  });

  it('connection refused: retryable, and the request provably never reached Alipay', async () => {
    const closed = await startHttpPeer();
    const url = closed.gatewayUrl;
    await closed.close();
    const g = new AlipayGateway({
      gatewayUrl: url,
      partner: PARTNER,
      signType: 'MD5',
      md5Key: MADE_UP_KEY,
    });
    try {
      await failsWith(g.refund(REFUND), AlipayTransportError, {
        retryable: true,
        outcomeUnknown: false,
      });
    } finally {
      await g.close();
    }
  });

  it('request validation names the field and sends nothing', async () => {
    const cases: [Promise<unknown>, string][] = [
      [gateway.refund({ ...REFUND, amount: { minor: 0, currency: 'USD' } }), 'amount'],
      [gateway.refund({ ...REFUND, amount: { minor: 1.5, currency: 'USD' } }), 'amount'],
      [gateway.refund({ ...REFUND, amount: { minor: 100, currency: 'XXX' } }), 'amount.currency'],
      [gateway.refund({ ...REFUND, refundId: REFUND.outTradeNo }), 'refundId'],
      [gateway.refund({ ...REFUND, refundId: 'x'.repeat(65) }), 'refundId'],
      [gateway.refund({ ...REFUND, reason: 'say "hi"' }), 'reason'],
      [gateway.refund({ ...REFUND, reason: 'r'.repeat(129) }), 'reason'],
      [gateway.queryTrade({ outTradeNo: '' }), 'outTradeNo'],
      [gateway.queryTrade({ outTradeNo: 'a b' }), 'outTradeNo'],
      [gateway.cancelTrade({ outTradeNo: 'T1', tradeNo: 'short' }), 'tradeNo'],
      [gateway.setQrCodeStatus('https://qr.alipay.com/x', 'PAUSE' as never), 'status'],
      [gateway.verifyNotifyId(''), 'notifyId'],
      [
        gateway.createQrCode({
          secondaryMerchantId: 'M 1',
          secondaryMerchantName: 'n',
          merchantCategoryCode: '5812',
          storeId: 'S',
          storeName: 's',
          pricingCurrency: 'USD',
          settlementCurrency: 'USD',
        }),
        'secondaryMerchantId',
      ],
      [
        gateway.createQrCode({
          secondaryMerchantId: 'M1',
          secondaryMerchantName: 'n',
          merchantCategoryCode: '5812',
          storeId: 'S',
          storeName: 's',
          pricingCurrency: 'USD',
          settlementCurrency: 'EUR',
        }),
        'settlementCurrency',
      ],
      [
        gateway.createQrCode({
          secondaryMerchantId: 'M1',
          secondaryMerchantName: 'n',
          merchantCategoryCode: '4121',
          storeId: 'S',
          pricingCurrency: 'USD',
          settlementCurrency: 'USD',
        }),
        'taxi',
      ],
      [
        gateway.createQrCode({
          secondaryMerchantId: 'M1',
          secondaryMerchantName: 'n',
          merchantCategoryCode: '5812',
          storeId: 'S',
          storeName: 's',
          pricingCurrency: 'USD',
          settlementCurrency: 'USD',
          channelFee: { type: 'RATE', rate: '0.06' },
        }),
        'channelFee.rate',
      ],
      [
        gateway.createQrCode({
          secondaryMerchantId: 'M1',
          secondaryMerchantName: 'n',
          merchantCategoryCode: '5812',
          storeId: 'S',
          storeName: 'x'.repeat(128),
          address: 'y'.repeat(256),
          pricingCurrency: 'USD',
          settlementCurrency: 'USD',
          passback: Object.fromEntries(
            Array.from({ length: 8 }, (_, i) => [`k${i}`, 'v'.repeat(200)]),
          ),
        }),
        'input',
      ],
    ];
    for (const [promise, field] of cases) {
      const e = await failsWith<AlipayRequestValidationError>(
        promise,
        AlipayRequestValidationError,
        { retryable: false },
      );
      assert.equal(e.field, field, e.message);
    }
    assert.equal(peer.requests.length, 0);
  });
});

describe('injected undici MockAgent', () => {
  it('connect timeout is retryable and not sent; a mocked success parses', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    const pool = agent.get('https://mapi.alipaydev.com');
    pool
      .intercept({ path: '/gateway.do?_input_charset=UTF-8', method: 'POST' })
      .replyWithError(new undiciErrors.ConnectTimeoutError());
    pool
      .intercept({ path: '/gateway.do?_input_charset=UTF-8', method: 'POST' })
      .reply(200, CANCEL_XML, { headers: { 'content-type': 'text/xml' } });
    const g = new AlipayGateway(
      {
        gatewayUrl: 'https://mapi.alipaydev.com/gateway.do',
        partner: PARTNER,
        signType: 'MD5',
        md5Key: MADE_UP_KEY,
      },
      { dispatcher: agent, now: () => 1704081909123 },
    );
    const e = await failsWith<AlipayTimeoutError>(g.cancelTrade(REF), AlipayTimeoutError, {
      outcomeUnknown: false,
    });
    assert.equal(e.phase, 'connect');
    assert.equal((await g.cancelTrade({ outTradeNo: REF.outTradeNo })).action, 'refund');
    await g.close(); // leaves the injected agent to its owner
    agent.assertNoPendingInterceptors();
    await agent.close();
  });
});

describe('configuration and key self-test at construction', () => {
  const base = {
    gatewayUrl: 'https://globalmapi.alipay.com/gateway.do',
    partner: PARTNER,
    signType: 'MD5' as const,
    md5Key: MADE_UP_KEY,
  };

  it('refuses bad config values, naming the field', () => {
    const field = (f: string) => (err: unknown) =>
      err instanceof GatewayConfigError && err.field === f;
    assert.throws(
      () => new AlipayGateway({ ...base, gatewayUrl: 'not a url' }),
      field('gatewayUrl'),
    );
    assert.throws(
      () => new AlipayGateway({ ...base, gatewayUrl: 'http://gateway.example.com/gateway.do' }),
      field('gatewayUrl'),
    );
    assert.throws(() => new AlipayGateway({ ...base, partner: '1234' }), field('partner'));
    assert.throws(
      () => new AlipayGateway({ ...base, charset: 'latin1' as never }),
      field('charset'),
    );
    assert.throws(() => new AlipayGateway({ ...base, readTimeoutMs: 0 }), field('readTimeoutMs'));
    assert.throws(() => new AlipayGateway({ ...base, md5Key: undefined }), field('ALIPAY_MD5_KEY'));
    assert.throws(
      () => new AlipayGateway({ ...base, signType: 'RSA2', md5Key: undefined }),
      field('MERCHANT_PRIVATE_KEY'),
    );
  });

  it("detects the merchant's public key configured as Alipay's", () => {
    const merchant = testKeyPair('merchant');
    assert.throws(
      () =>
        new AlipayGateway({
          ...base,
          signType: 'RSA2',
          privateKey: merchant.pkcs8PrivatePem,
          alipayPublicKey: merchant.spkiPublicPem,
        }),
      (err: unknown) =>
        err instanceof KeyConfigError &&
        err.keyLabel === 'ALIPAY_PUBLIC_KEY' &&
        !err.message.includes('BEGIN'),
    );
  });

  it('does not expose keys through the config or JSON', async () => {
    const g = new AlipayGateway({ ...base, keyLabels: { md5Key: 'ENV_MD5' } });
    assert.ok(!JSON.stringify(g).includes(MADE_UP_KEY));
    assert.ok(!JSON.stringify(g.config).includes(MADE_UP_KEY));
    await g.close();
  });
});
