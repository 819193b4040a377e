import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { paymentNotifiedSignal } from '../../src/workflows/messages';
import { PaymentWorkflow } from '../../src/workflows/payment';
import { createLocalEnv } from '../helpers/temporal';

// On the real dev server (the time-skipping server has no visibility list API): the workflow's
// upserted search attributes make it findable the way an operator would find it in the Web UI.
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'visibility';

before(async () => {
  env = await createLocalEnv();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../../src/workflows'),
  });
  running = worker.run();
});

after(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

test('a payment is found by a visibility query on its custom search attributes', async () => {
  const outTradeNo = `OT-VIS-${Date.now()}`;
  const handle = await env.client.workflow.start(PaymentWorkflow, {
    taskQueue,
    workflowId: `payment-${outTradeNo}`,
    args: [{ partnerId: '2088101122136241', outTradeNo }],
  });
  await handle.signal(paymentNotifiedSignal, {
    notifyId: 'N-VIS',
    outTradeNo,
    tradeNo: 'T-VIS',
    tradeStatus: 'TRADE_SUCCESS',
    fields: {},
  });
  await handle.result();

  const query = `PaymentStatus = "NOTIFIED" AND AlipayOutTradeNo = "${outTradeNo}" AND AlipayTradeNo = "T-VIS"`;
  // Visibility is eventually consistent: poll briefly for the indexed record.
  let found: string[] = [];
  for (let attempt = 0; attempt < 50 && found.length === 0; attempt++) {
    found = [];
    for await (const wf of env.client.workflow.list({ query })) found.push(wf.workflowId);
    if (found.length === 0) await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(found, [handle.workflowId]);

  const none: string[] = [];
  for await (const wf of env.client.workflow.list({ query: `AlipayOutTradeNo = "${outTradeNo}-other"` })) {
    none.push(wf.workflowId);
  }
  assert.deepEqual(none, []);
});
