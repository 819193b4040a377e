import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { ActivityMetrics } from '../../src/activities';
import { createPaymentActivities, type RefundPaymentArgs } from '../../src/activities/payment';
import type { AlipayGateway } from '../../src/alipay';
import { EngineMetrics } from '../../src/observability/metrics';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { gatewayFor, storeInput } from '../sandbox/client';
import { PARTNER } from '../sandbox/support';

const usd = (minor: number): { minor: number; currency: string } => ({ minor, currency: 'USD' });

/** The payment activities' outcome counting, against the sandbox, one attempt at a time. */
describe('payment activities: refund and cancel outcomes for metrics', () => {
  let sandbox: Sandbox;
  let gateway: AlipayGateway;
  let qrcode: string;
  const recorded: string[] = [];
  const metrics: ActivityMetrics = {
    refund: (outcome, kind) => recorded.push(`refund ${kind} ${outcome}`),
    cancel: (outcome) => recorded.push(`cancel ${outcome}`),
  };
  let acts: ReturnType<typeof createPaymentActivities>;

  before(async () => {
    sandbox = await startSandbox();
    gateway = gatewayFor(sandbox, { readTimeoutMs: 1000 });
    qrcode = (await gateway.createQrCode(storeInput('AM1'))).qrcode;
    acts = createPaymentActivities({
      gateway,
      partnerId: PARTNER,
      verifyNotifyIds: false,
      metrics,
    });
  });
  beforeEach(() => {
    recorded.length = 0;
    sandbox.faults.clear();
  });
  after(async () => {
    await gateway.close();
    await sandbox.close();
  });

  const refundArgs = (extra: Partial<RefundPaymentArgs> = {}): RefundPaymentArgs => {
    const { trade } = sandbox.pay({ qrcode, amount: '10.00' });
    return {
      partnerId: PARTNER,
      outTradeNo: trade.outTradeNo,
      tradeNo: trade.tradeNo,
      refundId: `AM-${trade.tradeNo}`,
      amount: usd(100),
      ...extra,
    };
  };
  // Failed attempts are the point here: keep the SDK's "activity failed" logs out of the output.
  const quiet = new DefaultLogger('ERROR', () => {});
  const attempt = (info: Partial<Info> = {}) =>
    new MockActivityEnvironment(info, { logger: quiet });

  it('SUCCEEDED, by kind: the merchant refund and the reversal', async () => {
    await attempt().run(acts.refundPayment, refundArgs());
    await attempt().run(acts.refundPayment, refundArgs({ reversal: true }));
    assert.deepEqual(recorded, ['refund merchant SUCCEEDED', 'refund reversal SUCCEEDED']);
  });

  it('a retryable failure is RETRY, until the last attempt of the policy: then UNKNOWN', async () => {
    sandbox.faults.add({ service: 'REFUND', kind: 'system-error', times: 'always' });
    const args = refundArgs();
    await assert.rejects(attempt({ attempt: 1 }).run(acts.refundPayment, args));
    await assert.rejects(
      attempt({ attempt: 2, retryPolicy: { maximumAttempts: 3 } }).run(acts.refundPayment, args),
    );
    await assert.rejects(
      attempt({ attempt: 3, retryPolicy: { maximumAttempts: 3 } }).run(acts.refundPayment, args),
    );
    assert.deepEqual(recorded, [
      'refund merchant RETRY',
      'refund merchant RETRY',
      'refund merchant UNKNOWN',
    ]);
  });

  it("final failures: Alipay's refusal and a wrong partner are FAILED, an unknown code UNKNOWN", async () => {
    sandbox.faults.add({ service: 'REFUND', kind: 'fail', error: 'REFUND_AMT_RESTRICTION' });
    await assert.rejects(attempt().run(acts.refundPayment, refundArgs()));
    await assert.rejects(
      attempt().run(acts.refundPayment, refundArgs({ partnerId: '2088000000000000' })),
    );
    sandbox.faults.add({ service: 'REFUND', kind: 'fail', error: 'NEVER_HEARD_OF_IT' });
    await assert.rejects(attempt().run(acts.refundPayment, refundArgs({ reversal: true })));
    assert.deepEqual(recorded, [
      'refund merchant FAILED',
      'refund merchant FAILED',
      'refund reversal UNKNOWN',
    ]);
  });

  it('CANCEL: SUCCEEDED, FAILED, and CANCELLED when the workflow abandons it', async () => {
    const { trade } = sandbox.pay({ qrcode, amount: '10.00' });
    const ref = { partnerId: PARTNER, outTradeNo: trade.outTradeNo, tradeNo: trade.tradeNo };
    assert.deepEqual(await attempt().run(acts.cancelPayment, ref), { action: 'refund' });
    sandbox.faults.add({
      service: 'CANCEL',
      kind: 'fail',
      error: 'TRADE_STATUS_ERROR',
      retryFlag: 'N',
    });
    await assert.rejects(attempt().run(acts.cancelPayment, ref));
    sandbox.faults.add({ service: 'CANCEL', kind: 'hang' });
    const env = attempt();
    const running = env.run(acts.cancelPayment, ref);
    setTimeout(() => env.cancel(), 100);
    await assert.rejects(running);
    assert.deepEqual(recorded, ['cancel SUCCEEDED', 'cancel FAILED', 'cancel CANCELLED']);
  });

  it('EngineMetrics is an ActivityMetrics: the outcomes reach the scrape', async () => {
    const engine = new EngineMetrics();
    const counted = createPaymentActivities({
      gateway,
      partnerId: PARTNER,
      verifyNotifyIds: false,
      metrics: engine,
    });
    await attempt().run(counted.refundPayment, refundArgs({ reversal: true }));
    assert.match(
      await engine.render(),
      /^alipay_engine_refunds_total\{kind="reversal",outcome="SUCCEEDED"\} 1$/m,
    );
  });
});
