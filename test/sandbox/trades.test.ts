import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { call, createCode, S } from './support';

const DAY = 24 * 3_600_000;

/** QUERY, CANCEL and REFUND against trades paid by the sandbox's customer. */
describe('sandbox trades', () => {
  let sandbox: Sandbox;
  let qrcode: string;
  before(async () => {
    sandbox = await startSandbox({
      clock: { start: '2024-01-01 12:00:00', frozen: true },
      refundPeriodMs: 30 * DAY,
    });
    qrcode = await createCode(sandbox);
  });
  beforeEach(() => sandbox.clock.set('2024-01-01 12:00:00'));
  after(() => sandbox.close());

  const query = (id: Record<string, string>): ReturnType<typeof call> =>
    call(sandbox, { service: S.QUERY, ...id });
  const refund = (
    outTradeNo: string,
    refundId: string,
    amount: string,
    extra: Record<string, string> = {},
  ): ReturnType<typeof call> =>
    call(sandbox, {
      service: S.REFUND,
      partner_trans_id: outTradeNo,
      partner_refund_id: refundId,
      refund_amount: amount,
      currency: 'USD',
      is_sync: 'Y',
      ...extra,
    });
  const cancel = (
    outTradeNo: string,
    extra: Record<string, string> = {},
  ): ReturnType<typeof call> =>
    call(sandbox, {
      service: S.CANCEL,
      out_trade_no: outTradeNo,
      timestamp: String(sandbox.clock.now()),
      ...extra,
    });

  it('QUERY returns the paid trade with the fields of a real answer', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '8.80' });
    const res = await query({ partner_trans_id: trade.outTradeNo });
    assert.equal(res.envelope?.businessNode, 'alipay');
    assert.ok(res.signatureValid);
    assert.deepEqual(res.business, {
      alipay_buyer_login_id: trade.buyer.loginId,
      alipay_buyer_user_id: trade.buyer.userId,
      alipay_pay_time: '20240101120000',
      alipay_trans_id: trade.tradeNo,
      alipay_trans_status: 'TRADE_SUCCESS',
      currency: 'USD',
      exchange_rate: '7.10250000',
      forex_total_fee: '8.80',
      out_trade_no: trade.outTradeNo,
      partner_trans_id: trade.outTradeNo,
      result_code: 'SUCCESS',
      trans_amount: '8.80',
      trans_amount_cny: '62.50',
      trans_forex_rate: '1',
    });
    assert.equal(
      (await query({ alipay_trans_id: trade.tradeNo })).business.partner_trans_id,
      trade.outTradeNo,
    );
    assert.equal(
      (await query({ alipay_trans_id: trade.tradeNo, partner_trans_id: 'IGNORED' })).business
        .result_code,
      'SUCCESS',
      'alipay_trans_id wins',
    );
    const missing = await query({ partner_trans_id: 'NOPE' });
    assert.deepEqual(missing.business, {
      error: 'TRADE_NOT_EXIST',
      partner_trans_id: 'NOPE',
      result_code: 'FAIL',
    });
  });

  it('REFUND: partial refunds up to the paid amount, never above; a full refund closes the trade', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '10.00' });
    const first = await refund(trade.outTradeNo, 'RF-A1', '3.30');
    assert.equal(first.business.result_code, 'SUCCESS', first.text);
    assert.equal(first.business.refund_amount, '3.30');
    assert.equal(first.business.partner_refund_id, 'RF-A1');
    assert.equal(first.business.alipay_trans_id, trade.tradeNo);
    assert.ok(first.signatureValid);
    const over = await refund(trade.outTradeNo, 'RF-A2', '6.71');
    assert.equal(over.business.result_code, 'FAIL');
    assert.equal(over.business.error, 'REQUEST_AMOUNT_EXCEED');
    assert.equal(over.business.partner_refund_id, 'RF-A2');
    assert.equal((await refund(trade.outTradeNo, 'RF-A3', '6.70')).business.result_code, 'SUCCESS');
    assert.equal(
      (await query({ partner_trans_id: trade.outTradeNo })).business.alipay_trans_status,
      'TRADE_CLOSED',
    );
    assert.equal(
      (await refund(trade.outTradeNo, 'RF-A4', '0.01')).business.error,
      'TRADE_HAS_CLOSE',
    );
    const view = sandbox.state.findTrade(trade.tradeNo);
    assert.equal(view?.refunded_minor, 1000);
    assert.deepEqual(view?.refund_ids, ['RF-A1', 'RF-A3']);
  });

  it('REFUND: the same partner_refund_id with the same parameters returns the same refund, never a second one', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '5.00' });
    const a = await refund(trade.outTradeNo, 'RF-B1', '2.00');
    const b = await refund(trade.outTradeNo, 'RF-B1', '2.00');
    assert.deepEqual(b.business, a.business);
    assert.equal(sandbox.state.findTrade(trade.tradeNo)?.refunded_minor, 200);
    const changed = await refund(trade.outTradeNo, 'RF-B1', '2.50');
    assert.equal(changed.business.result_code, 'FAIL');
    assert.equal(changed.business.error, 'REPEATED_REFUNDMENT_REQUEST');
    assert.equal(sandbox.state.refunds().filter((r) => r.partner_refund_id === 'RF-B1').length, 1);
  });

  it('REFUND refuses another currency, an unknown trade and a mismatched alipay_trans_id', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '5.00' });
    assert.equal(
      (await refund(trade.outTradeNo, 'RF-C1', '1.00', { currency: 'EUR' })).business.error,
      'CURRENCY_NOT_SAME',
    );
    assert.equal((await refund('NOPE', 'RF-C2', '1.00')).business.error, 'TRADE_NOT_EXIST');
    assert.equal(
      (
        await refund(trade.outTradeNo, 'RF-C3', '1.00', {
          alipay_trans_id: '2024010122001300009999999999',
        })
      ).business.error,
      'TRADE_NOT_EXIST',
    );
    assert.equal(
      (
        await refund(trade.outTradeNo, 'RF-C4', '1.00', {
          alipay_trans_id: trade.tradeNo,
          refund_reason: '顾客退货',
        })
      ).business.result_code,
      'SUCCESS',
    );
  });

  it('REFUND is refused once the refund period is over (TRADE_FINISHED)', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '5.00' });
    sandbox.clock.advance(30 * DAY - 1000);
    assert.equal((await refund(trade.outTradeNo, 'RF-D1', '1.00')).business.result_code, 'SUCCESS');
    sandbox.clock.advance(2000);
    assert.equal(
      (await query({ partner_trans_id: trade.outTradeNo })).business.alipay_trans_status,
      'TRADE_FINISHED',
    );
    assert.equal(
      (await refund(trade.outTradeNo, 'RF-D2', '1.00')).business.error,
      'REFUNDMENT_VALID_DATE_EXCEED',
    );
    assert.equal(
      (await refund(trade.outTradeNo, 'RF-D1', '1.00')).business.result_code,
      'SUCCESS',
      'a repeat still answers',
    );
  });

  it('CANCEL reverses a paid trade on its GMT+8 day (action=refund), and answers the same on repeat', async () => {
    sandbox.clock.set('2024-01-01 23:59:00');
    const { trade } = sandbox.pay({ qrcode, amount: '8.80' });
    const res = await cancel(trade.outTradeNo);
    assert.deepEqual(res.business, {
      action: 'refund',
      out_trade_no: trade.outTradeNo,
      result_code: 'SUCCESS',
      retry_flag: 'N',
      trade_no: trade.tradeNo,
    });
    assert.ok(res.signatureValid);
    assert.equal(
      (await query({ partner_trans_id: trade.outTradeNo })).business.alipay_trans_status,
      'TRADE_CLOSED',
    );
    sandbox.clock.advance(120_000); // past midnight: the repeat of a done cancel still answers
    assert.equal((await cancel(trade.outTradeNo)).business.action, 'refund');
    assert.equal(
      (await refund(trade.outTradeNo, 'RF-E1', '1.00')).business.error,
      'TRADE_HAS_CLOSE',
    );
  });

  it('CANCEL after GMT+8 midnight is refused (retry_flag=N); REFUND still works', async () => {
    sandbox.clock.set('2024-01-01 23:59:30');
    const { trade } = sandbox.pay({ qrcode, amount: '8.80' });
    sandbox.clock.set('2024-01-02 00:00:00');
    const res = await cancel(trade.outTradeNo);
    assert.equal(res.business.result_code, 'FAIL');
    assert.equal(res.business.error, 'TRADE_STATUS_ERROR');
    assert.equal(res.business.detail_error_code, 'CANCEL_TIME_EXPIRED');
    assert.equal(res.business.retry_flag, 'N');
    assert.equal((await refund(trade.outTradeNo, 'RF-F1', '8.80')).business.result_code, 'SUCCESS');
  });

  it('the transaction day is GMT+8: 15:59 UTC and 16:00 UTC are different days', async () => {
    sandbox.clock.set(Date.parse('2024-03-05T15:59:00Z'));
    const { trade } = sandbox.pay({ qrcode, amount: '1.00' });
    sandbox.clock.set(Date.parse('2024-03-05T16:00:00Z'));
    assert.equal(
      (await cancel(trade.outTradeNo)).business.detail_error_code,
      'CANCEL_TIME_EXPIRED',
    );
  });

  it('CANCEL closes an unpaid trade (action=close); trade_no wins over out_trade_no', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '3.00', unpaid: true });
    assert.equal(
      (await query({ partner_trans_id: trade.outTradeNo })).business.alipay_trans_status,
      'WAIT_BUYER_PAY',
    );
    const res = await cancel('IGNORED', { trade_no: trade.tradeNo });
    assert.equal(res.business.action, 'close', res.text);
    assert.equal(res.business.out_trade_no, trade.outTradeNo);
    assert.equal(
      (await query({ partner_trans_id: trade.outTradeNo })).business.alipay_trans_status,
      'TRADE_CLOSED',
    );
    assert.equal(
      (await refund(trade.outTradeNo, 'RF-G1', '1.00')).business.error,
      'TRADE_HAS_CLOSE',
    );
  });

  it('an unpaid trade closes by itself after the payment time limit', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '3.00', unpaid: true });
    assert.equal(
      (await refund(trade.outTradeNo, 'RF-H1', '1.00')).business.error,
      'TRADE_STATUS_ERROR',
    );
    sandbox.clock.advance(3 * 60_000);
    assert.equal(
      (await query({ partner_trans_id: trade.outTradeNo })).business.alipay_trans_status,
      'TRADE_CLOSED',
    );
  });

  it('CANCEL of a partly refunded trade is refused (REFUND the rest instead) [R]', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '4.00' });
    await refund(trade.outTradeNo, 'RF-I1', '1.00');
    const res = await cancel(trade.outTradeNo);
    assert.equal(res.business.error, 'TRADE_STATUS_ERROR');
    assert.equal(res.business.retry_flag, 'N');
    assert.equal((await cancel('NOPE')).business.error, 'TRADE_NOT_EXIST');
  });

  it('trades of one partner are invisible to another', async () => {
    const other = await startSandbox({
      partners: [
        { partner: '2088999988887777', md5Key: 'mk1x9sdm2qv8t0rbz7yh3c5lw4jf6pe0' },
        { partner: '2088101122136241', md5Key: 'mk1x9sdm2qv8t0rbz7yh3c5lw4jf6pe0' },
      ],
    });
    try {
      const code = await createCode(other);
      const { trade } = other.pay({ qrcode: code, amount: '1.00' });
      const res = await call(other, {
        service: S.QUERY,
        partner_trans_id: trade.outTradeNo,
        partner: '2088999988887777',
      });
      assert.equal(res.business.error, 'TRADE_NOT_EXIST');
    } finally {
      await other.close();
    }
  });
});
