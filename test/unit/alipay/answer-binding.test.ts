import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AlipayResponseMismatchError, type AlipayServiceError } from '../../../src/alipay/errors';
import { parseForm } from '../../../src/alipay/form';
import { AlipayGateway } from '../../../src/alipay/gateway';
import { createMd5Signer, type Params } from '../../../src/alipay/signing';
import { parseGatewayXml, renderGatewayResponse } from '../../../src/alipay/xml';
import { MONEY_REFUSED_FOR_SURE } from '../../../src/workflows/payment-types';
import { CANCEL_XML, MADE_UP_KEY, MODIFYSTATUS_XML, QUERY_XML, REFUND_XML } from './fixtures';
import { startHttpPeer, type Captured, type HttpPeer } from './http-peer';

/**
 * Issue 11 item 10: only the business node of an answer is signed, so a genuinely signed answer
 * to ANOTHER call (another service, another trade, another refund) can be put in front of any
 * request, with a `<request>` echo rewritten to match. The gateway client must refuse it, and
 * for CANCEL / REFUND as "outcome unknown", never as success nor as "refused for sure".
 */

const PARTNER = '2088101122136241';
const md5 = createMd5Signer(MADE_UP_KEY);
/** The trade of the MAPI.md examples (QUERY_XML, CANCEL_XML and REFUND_XML are about it). */
const TRADE = '2024010100000000001';
const REFUND = {
  outTradeNo: TRADE,
  refundId: 'RF-20240102-0001',
  amount: { minor: 330, currency: 'USD' },
};

/** The request as the gateway received it, echoed the way MAPI echoes it (unsigned). */
function echoOf(req: Captured): Params {
  const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
  return {
    ...parseForm(Buffer.from(query, 'latin1'), 'UTF-8'),
    ...parseForm(req.body, 'UTF-8'),
  };
}

/**
 * A genuinely signed answer, replayed for `req`: the business node and its `<sign>` exactly
 * as signed for another call, the unsigned `<request>` echo forged to be this request's.
 */
function replayed(xml: string, req: Captured): Buffer {
  const original = parseGatewayXml(xml);
  return renderGatewayResponse({
    request: echoOf(req),
    business: original.business,
    businessNode: original.businessNode,
    signature: original.sign,
    signType: original.signType,
  });
}

/** A fresh answer signed with the real key, echoing `req`. */
function signedFor(business: Params, req: Captured): Buffer {
  return renderGatewayResponse({ request: echoOf(req), business, signer: md5 });
}

async function refusedAsForeign(
  call: Promise<unknown>,
  moneyMoving: boolean,
): Promise<AlipayServiceError> {
  const err = await call.then(
    () => assert.fail('a foreign answer was taken as success'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AlipayResponseMismatchError, `got ${String(err)}`);
  assert.equal(err.outcomeUnknown, moneyMoving, err.message);
  assert.equal(MONEY_REFUSED_FOR_SURE.includes(err.name), false, 'never "refused for sure"');
  return err;
}

describe('gateway answers must belong to the request (signed XML)', () => {
  let peer: HttpPeer;
  let gateway: AlipayGateway;

  before(async () => {
    peer = await startHttpPeer();
    gateway = new AlipayGateway(
      { gatewayUrl: peer.gatewayUrl, partner: PARTNER, signType: 'MD5', md5Key: MADE_UP_KEY },
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

  it('the genuine answers themselves are accepted (the fixtures are correctly signed)', async () => {
    peer.reply((req) => ({ body: replayed(REFUND_XML, req) }));
    assert.equal((await gateway.refund(REFUND)).refundId, REFUND.refundId);
    peer.reply((req) => ({ body: replayed(CANCEL_XML, req) }));
    assert.equal((await gateway.cancelTrade({ outTradeNo: TRADE })).action, 'refund');
    peer.reply((req) => ({ body: replayed(QUERY_XML, req) }));
    assert.equal((await gateway.queryTrade({ outTradeNo: TRADE })).status, 'TRADE_SUCCESS');
  });

  it('REFUND answered by the signed QUERY answer of the same trade: outcome unknown', async () => {
    peer.reply((req) => ({ body: replayed(QUERY_XML, req) }));
    const err = await refusedAsForeign(gateway.refund(REFUND), true);
    assert.match(err.message, /alipay_trans_status/);
    // Without any echo at all, too.
    peer.reply(() => ({ body: QUERY_XML.replace(/<request>[\s\S]*<\/request>\n/, '') }));
    await refusedAsForeign(gateway.refund(REFUND), true);
  });

  it('REFUND answered by the signed CANCEL answer of the same trade: outcome unknown', async () => {
    peer.reply((req) => ({ body: replayed(CANCEL_XML, req) }));
    await refusedAsForeign(gateway.refund(REFUND), true);
  });

  it("REFUND answered by another refund's, another trade's or another amount's answer", async () => {
    peer.reply((req) => ({ body: replayed(REFUND_XML, req) }));
    await refusedAsForeign(gateway.refund({ ...REFUND, refundId: 'RF-20240102-0002' }), true);
    await refusedAsForeign(
      gateway.refund({ ...REFUND, amount: { minor: 331, currency: 'USD' } }),
      true,
    );
    await refusedAsForeign(gateway.refund({ ...REFUND, outTradeNo: '2024010100000000009' }), true);
    await refusedAsForeign(
      gateway.refund({ ...REFUND, tradeNo: '2024010122001300000000000009' }),
      true,
    );
  });

  it("REFUND success must carry the refund's ID, amount and trade; 3.3 equals 3.30", async () => {
    const complete = {
      result_code: 'SUCCESS',
      partner_refund_id: REFUND.refundId,
      partner_trans_id: TRADE,
      refund_amount: '3.3',
      currency: 'USD',
    };
    peer.reply((req) => ({ body: signedFor(complete, req) }));
    assert.deepEqual((await gateway.refund(REFUND)).amount, REFUND.amount);
    for (const missing of ['partner_refund_id', 'partner_trans_id', 'refund_amount']) {
      peer.reply((req) => ({ body: signedFor({ ...complete, [missing]: undefined }, req) }));
      const err = await refusedAsForeign(gateway.refund(REFUND), true);
      assert.match(err.message, new RegExp(missing));
    }
    peer.reply((req) => ({ body: signedFor({ ...complete, currency: 'HKD' }, req) }));
    await refusedAsForeign(gateway.refund(REFUND), true);
  });

  it("a FAIL answer of another refund is not this refund's refusal (outcome unknown)", async () => {
    peer.reply((req) => ({
      body: signedFor(
        {
          result_code: 'FAIL',
          error: 'REQUEST_AMOUNT_EXCEED',
          partner_refund_id: 'RF-20240102-0002',
          partner_trans_id: TRADE,
        },
        req,
      ),
    }));
    await refusedAsForeign(gateway.refund(REFUND), true);
    // A CANCEL's FAIL node (with CANCEL's own action) for a REFUND: foreign, too.
    peer.reply((req) => ({
      body: signedFor({ result_code: 'FAIL', error: 'TRADE_STATUS_ERROR', action: 'close' }, req),
    }));
    await refusedAsForeign(gateway.refund(REFUND), true);
  });

  it('CANCEL answered by the QUERY or REFUND answer of its trade, or by another trade: outcome unknown', async () => {
    peer.reply((req) => ({ body: replayed(QUERY_XML, req) }));
    await refusedAsForeign(gateway.cancelTrade({ outTradeNo: TRADE }), true);
    peer.reply((req) => ({ body: replayed(REFUND_XML, req) }));
    await refusedAsForeign(gateway.cancelTrade({ outTradeNo: TRADE }), true);
    peer.reply((req) => ({ body: replayed(CANCEL_XML, req) }));
    await refusedAsForeign(gateway.cancelTrade({ outTradeNo: '2024010100000000009' }), true);
    await refusedAsForeign(
      gateway.cancelTrade({ outTradeNo: TRADE, tradeNo: '2024010122001300000000000009' }),
      true,
    );
  });

  it("CANCEL success needs the trade's ID and CANCEL's own action (or retry_flag, as in the real answer)", async () => {
    peer.reply((req) => ({ body: signedFor({ result_code: 'SUCCESS' }, req) }));
    await refusedAsForeign(gateway.cancelTrade({ outTradeNo: TRADE }), true);
    peer.reply((req) => ({
      body: signedFor({ result_code: 'SUCCESS', out_trade_no: TRADE }, req),
    }));
    await refusedAsForeign(gateway.cancelTrade({ outTradeNo: TRADE }), true);
    peer.reply((req) => ({ body: signedFor({ result_code: 'SUCCESS', action: 'close' }, req) }));
    await refusedAsForeign(gateway.cancelTrade({ outTradeNo: TRADE }), true);
    // MAPI.md §10.4's real answer: out_trade_no, result_code, retry_flag; no action.
    peer.reply((req) => ({
      body: signedFor({ out_trade_no: TRADE, result_code: 'SUCCESS', retry_flag: 'N' }, req),
    }));
    assert.deepEqual(await gateway.cancelTrade({ outTradeNo: TRADE }), { outTradeNo: TRADE });
  });

  it('QUERY answered by another trade, by a REFUND answer, or by a node without the trade', async () => {
    peer.reply((req) => ({ body: replayed(QUERY_XML, req) }));
    await refusedAsForeign(gateway.queryTrade({ outTradeNo: '2024010100000000009' }), false);
    peer.reply((req) => ({ body: replayed(REFUND_XML, req) }));
    await refusedAsForeign(gateway.queryTrade({ outTradeNo: TRADE }), false);
    const query = parseGatewayXml(QUERY_XML).business!;
    peer.reply((req) => ({
      body: signedFor({ ...query, partner_trans_id: undefined, out_trade_no: undefined }, req),
    }));
    await refusedAsForeign(gateway.queryTrade({ outTradeNo: TRADE }), false);
  });

  it('CREATE needs a qrcode; MODIFY and MODIFYSTATUS the same code; no trade answers', async () => {
    const input = {
      secondaryMerchantId: 'M0001',
      secondaryMerchantName: 'Demo Cafe',
      merchantCategoryCode: '5812',
      storeId: 'S01',
      storeName: 'Demo Cafe Central',
      pricingCurrency: 'USD',
      settlementCurrency: 'USD',
    };
    const code = 'https://qr.alipay.com/baxdemo0merchantqr000001';
    peer.reply((req) => ({ body: signedFor({ qrcode_img_url: 'https://x.example/c.png' }, req) }));
    await refusedAsForeign(gateway.createQrCode(input), false);
    peer.reply((req) => ({ body: replayed(QUERY_XML, req) }));
    await refusedAsForeign(gateway.createQrCode(input), false);
    peer.reply((req) => ({ body: replayed(MODIFYSTATUS_XML, req) }));
    assert.equal((await gateway.modifyQrCode(code, input)).qrcode, code);
    await refusedAsForeign(gateway.modifyQrCode(`${code}X`, input), false);
    await refusedAsForeign(gateway.setQrCodeStatus(`${code}X`, 'STOP'), false);
    peer.reply((req) => ({ body: signedFor({}, req) }));
    await refusedAsForeign(gateway.setQrCodeStatus(code, 'STOP'), false);
  });
});
