import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { paymentNotifiedSignal, refundPaymentUpdate } from '../../src/workflows/messages';
import { PaymentWorkflow, paymentWorkflowId } from '../../src/workflows/payment';
import { createLocalEnv } from '../helpers/temporal';
import {
  FakeAlipay,
  PARTNER,
  notification,
  startWorker,
  waitForStatus,
} from '../workflows/payment-support';

// On the real dev server (the time-skipping server has no visibility list API): the workflow's
// upserted search attributes make it findable the way an operator would find it in the Web UI.
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const fake = new FakeAlipay();
const taskQueue = 'visibility';

before(async () => {
  env = await createLocalEnv();
  ({ worker, running } = await startWorker(env, taskQueue, fake.activities()));
});

after(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

async function find(query: string, expectAtLeast = 1): Promise<string[]> {
  // Visibility is eventually consistent: poll briefly for the indexed record.
  let found: string[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    found = [];
    for await (const wf of env.client.workflow.list({ query })) found.push(wf.workflowId);
    if (found.length >= expectAtLeast) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return found;
}

test('a refunded payment is found by a visibility query on its custom search attributes', async () => {
  const outTradeNo = `OT-VIS-${Date.now()}`;
  const handle = await env.client.workflow.signalWithStart(PaymentWorkflow, {
    taskQueue,
    workflowId: paymentWorkflowId(PARTNER, outTradeNo),
    args: [{ partnerId: PARTNER, outTradeNo }],
    signal: paymentNotifiedSignal,
    signalArgs: [notification(outTradeNo, { storeId: 'S-VIS' })],
  });
  await waitForStatus(handle, 'PAID');
  await handle.executeUpdate(refundPaymentUpdate, {
    args: [{ refundId: 'R-VIS', amount: '2.50' }],
  });

  // "Payments of store S-VIS partly refunded today", as an operator types it in the Web UI.
  const since = new Date(Date.now() - 3600_000).toISOString();
  const query =
    `PaymentStatus = "PARTIALLY_REFUNDED" AND AlipayStoreId = "S-VIS" AND AlipayOutTradeNo = "${outTradeNo}" ` +
    `AND AlipayTradeNo = "T-${outTradeNo}" AND RefundedMinor = 250 AND PaidMinor = 1000 AND LastRefundAt > "${since}"`;
  assert.deepEqual(await find(query), [handle.workflowId]);
  assert.deepEqual(await find(`AlipayOutTradeNo = "${outTradeNo}-other"`, 0), []);
  await handle.terminate('test done');
});
