import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { call, createCode, S } from './support';

/** Every gateway fault, seen from a raw HTTP client: what arrives, and what happened to the state. */
describe('sandbox gateway faults', () => {
  let sandbox: Sandbox;
  let qrcode: string;
  before(async () => {
    sandbox = await startSandbox();
    qrcode = await createCode(sandbox);
  });
  beforeEach(() => sandbox.faults.clear());
  after(() => sandbox.close());

  const refund = (outTradeNo: string, id: string, amount = '1.00'): ReturnType<typeof call> =>
    call(sandbox, {
      service: S.REFUND,
      partner_trans_id: outTradeNo,
      partner_refund_id: id,
      refund_amount: amount,
      currency: 'USD',
      is_sync: 'Y',
    });
  const query = (outTradeNo: string): ReturnType<typeof call> =>
    call(sandbox, { service: S.QUERY, partner_trans_id: outTradeNo });
  const refunded = (tradeNo: string): number => sandbox.state.findTrade(tradeNo)!.refunded_minor;

  it('reset: the connection drops without an answer, nothing happens', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '5.00' });
    sandbox.faults.add({ service: 'REFUND', kind: 'reset' });
    await assert.rejects(refund(trade.outTradeNo, 'F-R1'), /socket|closed|reset/i);
    assert.equal(refunded(trade.tradeNo), 0);
  });

  it('lost-answer: the refund happens, the answer is lost; the retry with the same ID returns the same refund', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '5.00' });
    sandbox.faults.add({ service: 'REFUND', kind: 'lost-answer' });
    await assert.rejects(refund(trade.outTradeNo, 'F-L1', '2.00'));
    assert.equal(refunded(trade.tradeNo), 200, 'the state changed');
    const retry = await refund(trade.outTradeNo, 'F-L1', '2.00');
    assert.equal(retry.business.result_code, 'SUCCESS');
    assert.equal(retry.business.refund_amount, '2.00');
    assert.equal(refunded(trade.tradeNo), 200, 'no double refund');
  });

  it('hang: accepted, never answered (the client times out); with ms the socket is closed later', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '5.00' });
    sandbox.faults.add({ service: 'QUERY', kind: 'hang', ms: 100 });
    const started = Date.now();
    await assert.rejects(query(trade.outTradeNo));
    assert.ok(Date.now() - started >= 90);
    sandbox.faults.add({ service: 'REFUND', kind: 'hang', apply: true, ms: 50 });
    await assert.rejects(refund(trade.outTradeNo, 'F-H1'));
    assert.equal(refunded(trade.tradeNo), 100, 'apply: processed before hanging');
  });

  it('hang without ms is ended by close(), so tests leave no open handle', async () => {
    const own = await startSandbox();
    own.faults.add({ service: '*', kind: 'hang' });
    const pending = call(own, { service: S.QUERY, partner_trans_id: 'X' });
    await new Promise((r) => setTimeout(r, 50));
    await own.close();
    await assert.rejects(pending);
  });

  it('slow: answers normally after the delay', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '5.00' });
    sandbox.faults.add({ service: 'QUERY', kind: 'slow', ms: 120 });
    const started = Date.now();
    const res = await query(trade.outTradeNo);
    assert.ok(Date.now() - started >= 110);
    assert.equal(res.business.result_code, 'SUCCESS');
  });

  it('http-error and non-xml: HTTP-level garbage, nothing processed', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '5.00' });
    sandbox.faults.add({ service: 'REFUND', kind: 'http-error', status: 503 });
    const e5 = await refund(trade.outTradeNo, 'F-E1');
    assert.equal(e5.status, 503);
    assert.equal(e5.envelope, undefined);
    sandbox.faults.add({ service: 'REFUND', kind: 'non-xml' });
    const html = await refund(trade.outTradeNo, 'F-E2');
    assert.equal(html.status, 200);
    assert.match(html.text, /<html>/);
    assert.equal(html.envelope, undefined);
    assert.equal(refunded(trade.tradeNo), 0);
  });

  it('system-error: is_success=F with SYSTEM_ERROR, signed, nothing processed', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '5.00' });
    sandbox.faults.add({ service: 'REFUND', kind: 'system-error' });
    const res = await refund(trade.outTradeNo, 'F-S1');
    assert.equal(res.envelope?.isSuccess, false);
    assert.equal(res.envelope?.error, 'SYSTEM_ERROR');
    assert.ok(res.signatureValid);
    assert.equal(refunded(trade.tradeNo), 0);
  });

  it('unknown: result_code=UNKNOWN in a signed node, with or without the state change', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '5.00' });
    sandbox.faults.add({ service: 'REFUND', kind: 'unknown' });
    const res = await refund(trade.outTradeNo, 'F-U1');
    assert.deepEqual(res.business, {
      partner_refund_id: 'F-U1',
      partner_trans_id: trade.outTradeNo,
      result_code: 'UNKNOWN',
    });
    assert.ok(res.signatureValid);
    assert.equal(refunded(trade.tradeNo), 0);
    sandbox.faults.add({ service: 'REFUND', kind: 'unknown', apply: true });
    await refund(trade.outTradeNo, 'F-U2');
    assert.equal(refunded(trade.tradeNo), 100);
    sandbox.faults.add({ service: 'CANCEL', kind: 'unknown' });
    const cancel = await call(sandbox, {
      service: S.CANCEL,
      out_trade_no: trade.outTradeNo,
      timestamp: String(sandbox.clock.now()),
    });
    assert.equal(cancel.business.result_code, 'UNKNOWN');
    assert.equal(cancel.business.retry_flag, 'Y');
  });

  it('fail: any business error code, e.g. CANCEL FAIL with retry_flag=Y', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '5.00' });
    sandbox.faults.add({ service: 'CANCEL', kind: 'fail', error: 'SYSTEM_ERROR', retryFlag: 'Y' });
    const res = await call(sandbox, {
      service: S.CANCEL,
      out_trade_no: trade.outTradeNo,
      timestamp: String(sandbox.clock.now()),
    });
    assert.equal(res.business.result_code, 'FAIL');
    assert.equal(res.business.error, 'SYSTEM_ERROR');
    assert.equal(res.business.retry_flag, 'Y');
    assert.equal(sandbox.state.findTrade(trade.tradeNo)!.trade_status, 'TRADE_SUCCESS');
  });

  it('rules fire on a window of call numbers, per service and per partner', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '5.00' });
    const rule = sandbox.faults.add({ service: 'QUERY', kind: 'system-error', skip: 1, times: 2 });
    const results: string[] = [];
    for (let i = 0; i < 4; i++)
      results.push((await query(trade.outTradeNo)).envelope?.error ?? 'ok');
    assert.deepEqual(results, ['ok', 'SYSTEM_ERROR', 'SYSTEM_ERROR', 'ok']);
    assert.equal(rule.seen, 4);
    assert.equal(rule.fired, 2);
    await refund(trade.outTradeNo, 'F-W1'); // other services are not counted
    assert.equal(rule.seen, 4);

    sandbox.faults.clear();
    sandbox.faults.add({
      service: '*',
      kind: 'system-error',
      times: 'always',
      partner: '2088000000000000',
    });
    assert.equal(
      (await query(trade.outTradeNo)).business.result_code,
      'SUCCESS',
      'another partner is not affected',
    );
    sandbox.faults.clear();
    sandbox.faults.add({ service: '*', kind: 'http-error', times: 'always' });
    assert.equal((await query(trade.outTradeNo)).status, 502);
    assert.equal((await refund(trade.outTradeNo, 'F-W2')).status, 502);
  });

  it('validates fault specs', () => {
    assert.throws(
      () => sandbox.faults.add({ service: 'NOPE', kind: 'reset' }),
      /not a known service/,
    );
    assert.throws(
      () => sandbox.faults.add({ service: 'REFUND', kind: 'drop' } as never),
      /kind must be one of/,
    );
    assert.throws(
      () => sandbox.faults.add({ service: 'notification', kind: 'reset' } as never),
      /kind must be one of/,
    );
    assert.throws(
      () => sandbox.faults.add({ service: 'QUERY', kind: 'slow' } as never),
      /ms is required/,
    );
    assert.throws(() => sandbox.faults.add({ service: 'QUERY', kind: 'fail' } as never), /error/);
    assert.throws(() => sandbox.faults.add({ service: 'QUERY', kind: 'reset', times: 0 }), /times/);
    assert.throws(
      () => sandbox.faults.add({ service: 'QUERY', kind: 'http-error', status: 200 }),
      /status/,
    );
  });
});
