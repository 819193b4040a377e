import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { paymentNotifiedSignal, paymentStateQuery } from '../../src/workflows/messages';
import { PaymentWorkflow } from '../../src/workflows/payment';
import { createTimeSkippingEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'payment-skeleton';

before(async () => {
  env = await createTimeSkippingEnv();
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

test('a payment whose notification never comes times out after one (skipped) day', async () => {
  const startedAt = await env.currentTimeMs();
  const handle = await env.client.workflow.start(PaymentWorkflow, {
    taskQueue,
    workflowId: 'payment-timeout',
    args: [{ partnerId: '2088101122136241', outTradeNo: 'OT-TIMEOUT' }],
  });
  assert.equal((await handle.query(paymentStateQuery)).status, 'AWAITING_NOTIFICATION');
  const result = await handle.result(); // the test server skips the day-long timer
  assert.equal(result.status, 'NOTIFICATION_TIMED_OUT');
  const elapsed = (await env.currentTimeMs()) - startedAt;
  assert.ok(elapsed >= 24 * 3600_000, `expected a skipped day, got ${elapsed} ms`);
  assert.deepEqual(
    result.timeline.map((e) => e.event),
    ['STARTED', 'NOTIFICATION_TIMED_OUT'],
  );
});

test('the first notification wins and repeats are only recorded', async () => {
  const handle = await env.client.workflow.start(PaymentWorkflow, {
    taskQueue,
    workflowId: 'payment-notified',
    args: [{ partnerId: '2088101122136241', outTradeNo: 'OT-1' }],
  });
  const notification = { notifyId: 'N1', outTradeNo: 'OT-1', tradeNo: 'T1', tradeStatus: 'TRADE_SUCCESS', fields: {} };
  await handle.signal(paymentNotifiedSignal, notification);
  await handle.signal(paymentNotifiedSignal, { ...notification, notifyId: 'N2', tradeNo: 'T-other' });
  const result = await handle.result();
  assert.equal(result.status, 'NOTIFIED');
  assert.equal(result.tradeNo, 'T1');
});
