import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createPaymentActivities } from '../../src/activities/payment';
import { AlipayGateway, NOTIFICATION_ACK, type GatewayConfig } from '../../src/alipay';
import {
  DEFAULT_SANDBOX_MD5_KEY,
  DEFAULT_SANDBOX_PARTNER,
  startSandbox,
  type Sandbox,
} from '../../src/sandbox';
import {
  paymentNotifiedSignal,
  paymentStateQuery,
  refundPaymentUpdate,
} from '../../src/workflows/messages';
import { PaymentWorkflow, paymentWorkflowId } from '../../src/workflows/payment';
import type { ExpectedOrder } from '../../src/workflows/payment-types';
import { gatewayRefundId } from '../../src/workflows/refund-ids';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { startWorker, terminateWhenIdle, waitForState, waitForStatus } from './payment-support';

// REAL payment activities against an in-process sandbox: real signed notifications (a tiny
// receiver verifies them and signals-with-start), real QUERY/CANCEL/REFUND with injected faults.
// What must hold whatever the faults: no double refund, no lost payment.
let env: TestWorkflowEnvironment;
let sandbox: Sandbox;
let gateway: AlipayGateway;
let receiver: Server;
let worker: Worker;
let running: Promise<void>;
let qrcode: string;
const taskQueue = 'payment-sandbox';
const PARTNER = DEFAULT_SANDBOX_PARTNER;
/** Per out_trade_no: what the merchant expects (set before the customer pays). */
const expectations = new Map<string, ExpectedOrder>();

before(async () => {
  env = await createTimeSkippingEnv();
  sandbox = await startSandbox({ timeScale: 1e-4 });
  // undici's timers have ~1 s resolution: 1000 ms is the shortest read timeout that means it.
  gateway = new AlipayGateway(
    {
      gatewayUrl: sandbox.gatewayUrl,
      partner: PARTNER,
      signType: 'MD5',
      md5Key: DEFAULT_SANDBOX_MD5_KEY,
      readTimeoutMs: 1000,
    } as GatewayConfig,
    { now: () => sandbox.clock.now() },
  );
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        try {
          const n = gateway.readNotification(Buffer.concat(chunks), req.headers['content-type']);
          const outTradeNo = n.outTradeNo as string;
          const expected = expectations.get(outTradeNo);
          await env.client.workflow.signalWithStart(PaymentWorkflow, {
            taskQueue,
            workflowId: paymentWorkflowId(PARTNER, outTradeNo),
            args: [{ partnerId: PARTNER, outTradeNo, ...(expected ? { expected } : {}) }],
            signal: paymentNotifiedSignal,
            signalArgs: [n],
          });
          res.end(NOTIFICATION_ACK);
        } catch (err) {
          res.statusCode = 500;
          res.end(String(err));
        }
      })();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const notifyUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alipay/notify`;
  qrcode = (
    await gateway.createQrCode({
      secondaryMerchantId: 'M0001',
      secondaryMerchantName: 'Demo Cafe',
      merchantCategoryCode: '5812',
      storeId: 'S-PAY',
      storeName: 'Demo Cafe S-PAY',
      pricingCurrency: 'USD',
      settlementCurrency: 'USD',
      notifyUrl,
    })
  ).qrcode;
  const activities = createPaymentActivities({
    gateway,
    partnerId: PARTNER,
    verifyNotifyIds: true,
  });
  ({ worker, running } = await startWorker(env, taskQueue, activities));
});

after(async () => {
  worker?.shutdown();
  await running;
  await new Promise((r) => receiver?.close(r));
  await gateway?.close();
  await sandbox?.close();
  await env?.teardown();
});

/** A customer pays the store's code; the sandbox notifies the receiver, which starts the workflow. */
async function customerPays(
  amount: string,
  expected?: Omit<ExpectedOrder, 'orderId'>,
): Promise<{ handle: WorkflowHandle; outTradeNo: string }> {
  const paid = sandbox.pay({ qrcode, amount });
  const outTradeNo = paid.trade.outTradeNo;
  if (expected) expectations.set(outTradeNo, expected);
  await sandbox.notifications.settled(paid.notifyId!);
  return {
    handle: env.client.workflow.getHandle(paymentWorkflowId(PARTNER, outTradeNo)),
    outTradeNo,
  };
}

const refundsOf = (outTradeNo: string) =>
  sandbox.state.refunds().filter((r) => r['partner_trans_id'] === outTradeNo);

test('QUERY faults (SYSTEM_ERROR, a hung connection) do not lose a payment', async () => {
  sandbox.faults.add({ service: 'QUERY', kind: 'system-error' });
  sandbox.faults.add({ service: 'QUERY', kind: 'hang', skip: 1 });
  const { handle, outTradeNo } = await customerPays('12.34');
  const state = await waitForStatus(handle, 'PAID', 30_000);
  assert.equal(state.paid, '12.34');
  assert.equal(state.tradeNo, sandbox.state.findTrade(outTradeNo)!['trade_no']);
  assert.equal(state.storeId, 'S-PAY');
  await terminateWhenIdle(handle);
});

test('refunds through lost answers, SYSTEM_ERROR and a timeout: each refunded exactly once', async () => {
  const { handle, outTradeNo } = await customerPays('50.00');
  await waitForStatus(handle, 'PAID', 30_000);
  const refund = (refundId: string, amount: string) =>
    handle.executeUpdate(refundPaymentUpdate, { args: [{ refundId, amount }] });

  sandbox.faults.add({ service: 'REFUND', kind: 'lost-answer' }); // refunded, answer lost: retried with the same ID
  assert.equal((await refund('RF-lost', '10.00')).status, 'SUCCEEDED');
  sandbox.faults.add({ service: 'REFUND', kind: 'system-error' });
  assert.equal((await refund('RF-syserr', '5.00')).status, 'SUCCEEDED');
  sandbox.faults.add({ service: 'REFUND', kind: 'hang', apply: true, ms: 3000 });
  assert.equal((await refund('RF-hang', '5.00')).status, 'SUCCEEDED');

  const atAlipay = refundsOf(outTradeNo);
  assert.deepEqual(
    atAlipay.map((r) => r['partner_refund_id']).sort(),
    ['RF-hang', 'RF-lost', 'RF-syserr']
      .map((key) => gatewayRefundId(PARTNER, outTradeNo, key))
      .sort(),
    'one refund per key at Alipay, under the derived partner_refund_id',
  );
  assert.equal(sandbox.state.findTrade(outTradeNo)!['refunded_minor'], 2000);
  const state = await handle.query(paymentStateQuery);
  assert.equal(state.refundedMinor, 2000);
  assert.equal(state.refundable, '30.00');
  assert.equal(state.status, 'PARTIALLY_REFUNDED');
  await terminateWhenIdle(handle);
});

test('a payment that does not match the merchant order is reversed at Alipay', async () => {
  sandbox.faults.add({ service: 'CANCEL', kind: 'lost-answer' }); // cancelled, answer lost: CANCEL again
  const { handle, outTradeNo } = await customerPays('9.99', { amount: '99.90', currency: 'USD' });
  const state = await waitForState(
    handle,
    (s) => s.status === 'CANCELLED' || s.status === 'REFUNDED',
    30_000,
  );
  const trade = sandbox.state.findTrade(outTradeNo)!;
  // CANCEL on the payment's GMT+8 day (REFUND if this test happens to straddle midnight).
  if (state.status === 'CANCELLED') assert.equal(trade['trade_status'], 'TRADE_CLOSED');
  else assert.equal(trade['refunded_minor'], 999);
  assert.ok(refundsOf(outTradeNo).length <= 1);
  assert.match(state.reversal!.reason, /paid 9\.99 USD, expected 99\.90 USD/);
});
