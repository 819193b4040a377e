import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  AlipayOutcomeUnknownError,
  AlipayResponseError,
  AlipayResponseMismatchError,
  AlipayRetryableBusinessError,
  AlipaySystemError,
  AlipayTimeoutError,
  AlipayTransportError,
  type AlipayGateway,
  type AlipayServiceError,
} from '../../src/alipay';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { MONEY_REFUSED_FOR_SURE } from '../../src/workflows/payment-types';
import { gatewayFor, storeInput } from './client';
import { waitFor } from './support';

const usd = (minor: number): { minor: number; currency: string } => ({ minor, currency: 'USD' });

/** Asserts the error class, that it is retryable, and whether the money outcome is unknown. */
function classified<T extends AlipayServiceError>(
  type: abstract new (...args: never[]) => T,
  outcomeUnknown: boolean,
): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof type, `expected ${type.name}, got ${String(e)}`);
    assert.equal(e.retryable, true, 'retryable');
    assert.equal(e.outcomeUnknown, outcomeUnknown, 'outcomeUnknown');
    return true;
  };
}

/**
 * An answer that belongs to another request: never success; for CANCEL / REFUND outcome
 * unknown, and never a failure the workflow reads as "Alipay refused for sure".
 */
function foreign(outcomeUnknown: boolean): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof AlipayResponseMismatchError, `expected a mismatch, got ${String(e)}`);
    assert.equal(e.outcomeUnknown, outcomeUnknown, 'outcomeUnknown');
    assert.equal(MONEY_REFUSED_FOR_SURE.includes(e.name), false);
    return true;
  };
}

/**
 * Every injected gateway fault, as the engine's client classifies it: the sandbox produces the
 * failure on the wire, the client must turn it into the right typed error.
 */
describe('AlipayGateway against the sandbox: faults', () => {
  let sandbox: Sandbox;
  let gateway: AlipayGateway;
  let qrcode: string;
  before(async () => {
    sandbox = await startSandbox();
    // undici's timers have ~1 s resolution, so 1000 ms is the shortest read timeout that means what it says.
    gateway = gatewayFor(sandbox, { readTimeoutMs: 1000 });
    qrcode = (await gateway.createQrCode(storeInput('F1'))).qrcode;
  });
  beforeEach(() => sandbox.faults.clear());
  after(async () => {
    await gateway.close();
    await sandbox.close();
  });

  const paidTrade = (amount = '10.00'): { outTradeNo: string; tradeNo: string } => {
    const { trade } = sandbox.pay({ qrcode, amount });
    return { outTradeNo: trade.outTradeNo, tradeNo: trade.tradeNo };
  };
  const refunded = (tradeNo: string): number => sandbox.state.findTrade(tradeNo)!.refunded_minor;

  it('connection reset: transport error, retryable; outcome unknown only for money-moving calls', async () => {
    const t = paidTrade();
    sandbox.faults.add({ service: 'QUERY', kind: 'reset' });
    await assert.rejects(gateway.queryTrade(t), classified(AlipayTransportError, false));
    sandbox.faults.add({ service: 'REFUND', kind: 'reset' });
    await assert.rejects(
      gateway.refund({ ...t, refundId: 'F-1', amount: usd(100) }),
      classified(AlipayTransportError, true),
    );
    assert.equal(refunded(t.tradeNo), 0);
  });

  it('no answer (hang) and an answer slower than the read timeout: read timeout, retryable', async () => {
    const t = paidTrade();
    sandbox.faults.add({ service: 'QUERY', kind: 'hang' });
    await assert.rejects(gateway.queryTrade(t), classified(AlipayTimeoutError, false));
    sandbox.faults.add({ service: 'CANCEL', kind: 'slow', ms: 1800 });
    await assert.rejects(gateway.cancelTrade(t), classified(AlipayTimeoutError, true));
    // The client gave up, Alipay did not: the cancel still happens. That is "outcome unknown".
    await waitFor(
      () => sandbox.state.findTrade(t.tradeNo)?.trade_status === 'TRADE_CLOSED',
      5000,
      'late cancel',
    );
    sandbox.faults.add({ service: 'QUERY', kind: 'slow', ms: 50 });
    const fresh = paidTrade();
    assert.equal(
      (await gateway.queryTrade(fresh)).status,
      'TRADE_SUCCESS',
      'slow but in time: fine',
    );
  });

  it('HTTP 5xx: transport error, retryable', async () => {
    const t = paidTrade();
    sandbox.faults.add({ service: 'REFUND', kind: 'http-error', status: 503 });
    await assert.rejects(
      gateway.refund({ ...t, refundId: 'F-2', amount: usd(100) }),
      (e: unknown) => {
        classified(AlipayTransportError, true)(e);
        assert.equal((e as AlipayTransportError).httpStatus, 503);
        return true;
      },
    );
  });

  it('non-XML body: response error, retryable', async () => {
    const t = paidTrade();
    sandbox.faults.add({ service: 'QUERY', kind: 'non-xml' });
    await assert.rejects(gateway.queryTrade(t), classified(AlipayResponseError, false));
  });

  it('is_success=F SYSTEM_ERROR: system error, retryable, for every service', async () => {
    const t = paidTrade();
    sandbox.faults.add({ service: '*', kind: 'system-error', times: 'always' });
    await assert.rejects(
      gateway.createQrCode(storeInput('F2')),
      classified(AlipaySystemError, false),
    );
    await assert.rejects(
      gateway.setQrCodeStatus(qrcode, 'STOP'),
      classified(AlipaySystemError, false),
    );
    await assert.rejects(gateway.queryTrade(t), classified(AlipaySystemError, false));
    await assert.rejects(gateway.cancelTrade(t), classified(AlipaySystemError, true));
    await assert.rejects(
      gateway.refund({ ...t, refundId: 'F-3', amount: usd(100) }),
      classified(AlipaySystemError, true),
    );
    await assert.rejects(
      gateway.verifyNotifyId('a'.repeat(34)),
      classified(AlipaySystemError, false),
    );
    assert.equal(refunded(t.tradeNo), 0);
    assert.equal(sandbox.state.codes().find((c) => c.qrcode === qrcode)?.status, 'ACTIVE');
  });

  it('result_code=UNKNOWN: outcome unknown, retryable; the retry with the same ID settles it', async () => {
    const t = paidTrade();
    sandbox.faults.add({ service: 'REFUND', kind: 'unknown', apply: true });
    await assert.rejects(
      gateway.refund({ ...t, refundId: 'F-4', amount: usd(250) }),
      classified(AlipayOutcomeUnknownError, true),
    );
    assert.equal(refunded(t.tradeNo), 250, 'the refund did happen');
    const retry = await gateway.refund({ ...t, refundId: 'F-4', amount: usd(250) });
    assert.deepEqual(retry.amount, usd(250));
    assert.equal(refunded(t.tradeNo), 250, 'and only once');
    sandbox.faults.add({ service: 'QUERY', kind: 'unknown' });
    await assert.rejects(gateway.queryTrade(t), classified(AlipayOutcomeUnknownError, true));
  });

  it('lost refund answer: the retry with the same partner_refund_id returns the same refund, no double refund', async () => {
    const t = paidTrade('5.00');
    sandbox.faults.add({ service: 'REFUND', kind: 'lost-answer' });
    await assert.rejects(
      gateway.refund({ ...t, refundId: 'F-5', amount: usd(500) }),
      classified(AlipayTransportError, true),
    );
    assert.equal(refunded(t.tradeNo), 500);
    const retry = await gateway.refund({ ...t, refundId: 'F-5', amount: usd(500) });
    assert.deepEqual(retry.amount, usd(500));
    assert.equal(refunded(t.tradeNo), 500);
    assert.equal(sandbox.state.refunds().filter((r) => r.partner_refund_id === 'F-5').length, 1);
  });

  it('lost CANCEL answer: the repeated CANCEL answers the same action', async () => {
    const t = paidTrade();
    sandbox.faults.add({ service: 'CANCEL', kind: 'lost-answer' });
    await assert.rejects(gateway.cancelTrade(t), classified(AlipayTransportError, true));
    assert.equal((await gateway.cancelTrade(t)).action, 'refund');
    assert.equal(sandbox.state.findTrade(t.tradeNo)?.trade_status, 'TRADE_CLOSED');
  });

  it('CANCEL FAIL with retry_flag=Y: retryable business error', async () => {
    const t = paidTrade();
    sandbox.faults.add({ service: 'CANCEL', kind: 'fail', error: 'SYSTEM_ERROR', retryFlag: 'Y' });
    await assert.rejects(
      gateway.cancelTrade(t),
      (e: unknown) => e instanceof AlipayRetryableBusinessError && e.retryable,
    );
    assert.equal((await gateway.cancelTrade(t)).action, 'refund');
  });

  it('foreign answer: REFUND answered by the signed QUERY of its trade: outcome unknown; the retry settles it', async () => {
    const t = paidTrade('10.00');
    sandbox.faults.add({ service: 'REFUND', kind: 'foreign-answer', apply: true });
    await assert.rejects(
      gateway.refund({ ...t, refundId: 'FA-1', amount: usd(100) }),
      foreign(true),
    );
    assert.equal(refunded(t.tradeNo), 100, 'the refund did happen behind the foreign answer');
    const retry = await gateway.refund({ ...t, refundId: 'FA-1', amount: usd(100) });
    assert.deepEqual(retry.amount, usd(100));
    assert.equal(refunded(t.tradeNo), 100, 'and only once');
  });

  it("foreign answer: REFUND answered by an earlier refund's genuine answer, nothing taken as done", async () => {
    const t = paidTrade('10.00');
    await gateway.refund({ ...t, refundId: 'FA-2', amount: usd(200) });
    sandbox.faults.add({ service: 'REFUND', kind: 'foreign-answer', from: 'REFUND' });
    await assert.rejects(
      gateway.refund({ ...t, refundId: 'FA-3', amount: usd(200) }),
      foreign(true),
    );
    assert.equal(refunded(t.tradeNo), 200, 'FA-3 was not processed');
  });

  it("foreign answer: CANCEL answered by its trade's QUERY, or by another trade's CANCEL", async () => {
    const t = paidTrade();
    sandbox.faults.add({ service: 'CANCEL', kind: 'foreign-answer', apply: true });
    await assert.rejects(gateway.cancelTrade(t), foreign(true));
    assert.equal(sandbox.state.findTrade(t.tradeNo)?.trade_status, 'TRADE_CLOSED');
    const other = paidTrade();
    sandbox.faults.add({ service: 'CANCEL', kind: 'foreign-answer', from: 'CANCEL' });
    await assert.rejects(gateway.cancelTrade(other), foreign(true));
    assert.equal(sandbox.state.findTrade(other.tradeNo)?.trade_status, 'TRADE_SUCCESS');
  });

  it('foreign answer: QUERY answered by the QUERY of another trade; MODIFY by another code', async () => {
    const t = paidTrade();
    const other = paidTrade('3.00');
    sandbox.faults.add({ service: 'QUERY', kind: 'foreign-answer', outTradeNo: other.outTradeNo });
    await assert.rejects(gateway.queryTrade(t), foreign(false));
    const code = (await gateway.createQrCode(storeInput('FA1'))).qrcode;
    await gateway.createQrCode(storeInput('FA2'));
    sandbox.faults.add({ service: 'MODIFY', kind: 'foreign-answer', from: 'CREATE' });
    await assert.rejects(gateway.modifyQrCode(code, storeInput('FA1')), foreign(false));
  });

  it('foreign-answer rules are validated', () => {
    for (const bad of [
      { from: 'NOTIFY_VERIFY' },
      { from: 'nothing' },
      { from: 'REFUND', outTradeNo: 'T' },
      { outTradeNo: '' },
    ]) {
      assert.throws(
        () => sandbox.faults.add({ service: 'REFUND', kind: 'foreign-answer', ...bad }),
        /fault\.(from|outTradeNo)/,
        JSON.stringify(bad),
      );
    }
  });
});
