import assert from 'node:assert/strict';
import { test } from 'node:test';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { AlipayBusinessError, AlipaySystemError, SERVICES } from '../../src/alipay';
import {
  expectPaymentUpdate,
  paymentNotifiedSignal,
  qrCodeStateQuery,
  setQrCodeStatusUpdate,
} from '../../src/workflows/messages';
import { paymentWorkflowId, type PaymentState } from '../../src/workflows/payment-types';
import { MerchantQrCodeWorkflow, qrCodeWorkflowId } from '../../src/workflows/qrcode';
import type { MerchantQrCodeInput } from '../../src/workflows/qrcode-types';
import {
  FakeAlipay,
  maybeRecordHistory,
  notification,
  PARTNER,
  useFakeAlipayWorker,
  waitForState,
} from './payment-support';
import { info } from './qrcode-support';

/**
 * A payment asks its store's code itself, by durable signals both ways, on the time-skipping
 * server: the PaymentWorkflow and the MerchantQrCodeWorkflow on one worker, Alipay faked at the
 * activity boundary (codes are created by a fake CREATE that answers the store's code).
 */
const fake = new FakeAlipay();
const codeActivities = {
  createQrCode: async ({ info: i }: { info: { storeId: string } }) => ({
    qrcode: `https://qr.alipay.com/${i.storeId}`,
  }),
  modifyQrCode: async () => ({}),
  setQrCodeStatus: async () => ({}),
};
let env: TestWorkflowEnvironment;
const taskQueue = 'payment-admission';
useFakeAlipayWorker(
  taskQueue,
  fake,
  (e) => {
    env = e;
  },
  codeActivities,
);

async function startCode(storeId: string, extra: Partial<MerchantQrCodeInput> = {}) {
  const handle = await env.client.workflow.start(MerchantQrCodeWorkflow, {
    taskQueue,
    workflowId: qrCodeWorkflowId(PARTNER, storeId, false),
    args: [{ partnerId: PARTNER, info: info(storeId), ...extra }],
  });
  for (let i = 0; (await handle.query(qrCodeStateQuery)).status === 'CREATING'; i++) {
    assert.ok(i < 100, 'the code was created');
    await new Promise((r) => setTimeout(r, 50));
  }
  return handle;
}

/** Alipay notifies a payment of `amount` USD at `storeId`'s code (signal-with-start). */
async function pay(outTradeNo: string, storeId: string, amount: string) {
  const minor = Math.round(Number(amount) * 100); // test data only: two-decimal literals
  fake.script(outTradeNo, { amountMinor: minor, paidAt: await env.currentTimeMs() });
  return payScripted(outTradeNo, storeId, amount);
}

/** The notification of {@link pay}, for a trade whose fake Alipay answers are scripted already. */
function payScripted(outTradeNo: string, storeId: string, amount: string) {
  const minor = Math.round(Number(amount) * 100);
  return env.client.workflow.signalWithStart('PaymentWorkflow', {
    taskQueue,
    workflowId: paymentWorkflowId(PARTNER, outTradeNo),
    args: [{ partnerId: PARTNER, outTradeNo }],
    signal: paymentNotifiedSignal,
    signalArgs: [
      notification(outTradeNo, {
        storeId,
        qrcode: `https://qr.alipay.com/${storeId}`,
        totalFee: amount,
        amount: { minor, currency: 'USD' },
      }),
    ],
  });
}

const settled = (s: PaymentState) =>
  s.admission !== undefined &&
  s.admission.status !== 'PENDING' &&
  ['PAID', 'CANCELLED', 'REFUNDED'].includes(s.status);

test('a payment settles its order, a wrong amount is held and reversed, a stopped code reverses, no code is recorded as such', async () => {
  const code = await startCode('A1');
  await code.executeUpdate(expectPaymentUpdate, {
    args: [{ orderId: 'O-1', amount: '10.00', currency: 'USD' }],
  });
  const matched = await waitForState(await pay('OT-A1-1', 'A1', '10.00'), settled);
  assert.equal(matched.status, 'PAID');
  assert.equal(matched.admission?.status, 'MATCHED');
  assert.equal(matched.admission?.orderId, 'O-1');

  await code.executeUpdate(expectPaymentUpdate, {
    args: [{ orderId: 'O-2', amount: '20.00', currency: 'USD' }],
  });
  const held = await waitForState(await pay('OT-A1-2', 'A1', '2.00'), settled);
  assert.equal(held.status, 'CANCELLED');
  assert.equal(held.admission?.status, 'HELD');
  assert.match(held.reversal!.reason, /paid 2\.00 USD, expected 20\.00 USD for order O-2/);
  assert.deepEqual(
    (await code.query(qrCodeStateQuery)).pendingOrders.map((o) => o.orderId),
    ['O-2'],
    'a held payment does not consume the order',
  );

  await code.executeUpdate(setQrCodeStatusUpdate, { args: ['STOP'] });
  const stopped = await waitForState(await pay('OT-A1-3', 'A1', '20.00'), settled);
  assert.equal(stopped.status, 'CANCELLED');
  assert.deepEqual(stopped.admission, {
    status: 'CODE_INACTIVE',
    code: qrCodeWorkflowId(PARTNER, 'A1', false),
    detail: 'the code is STOPPED',
  });

  const unmanaged = await waitForState(await pay('OT-A1-4', 'NO-CODE', '3.00'), settled);
  assert.equal(unmanaged.status, 'PAID');
  assert.deepEqual(unmanaged.admission, {
    status: 'NOT_MANAGED',
    detail: 'the engine manages no code of store NO-CODE',
  });
  assert.ok(unmanaged.timeline.some((e) => e.event === 'ADMISSION'));
  await maybeRecordHistory(
    env.client.workflow.getHandle(paymentWorkflowId(PARTNER, 'OT-A1-2')),
    'admission-held-reversed',
  );
});

test('the code continues as new in the middle of a stream of admissions: none lost, none doubled', async () => {
  const code = await startCode('A2', { maxHistoryEvents: 80 });
  const orders = Array.from({ length: 24 }, (_, i) => ({
    orderId: `S-${i}`,
    amount: `5.${String(i + 10).padStart(2, '0')}`,
    currency: 'USD',
  }));
  for (const order of orders) await code.executeUpdate(expectPaymentUpdate, { args: [order] });
  const runsBefore = (await code.query(qrCodeStateQuery)).continuedRuns;
  const handles = await Promise.all(orders.map((o, i) => pay(`OT-A2-${i}`, 'A2', o.amount)));
  const states = await Promise.all(handles.map((h) => waitForState(h, settled, 60_000)));
  assert.deepEqual(
    states.map((s) => [s.status, s.admission?.status]),
    orders.map(() => ['PAID', 'MATCHED']),
  );
  assert.deepEqual(
    states.map((s) => s.admission?.orderId).sort(),
    orders.map((o) => o.orderId).sort(),
    'every order settled by exactly one payment',
  );
  const after = await code.query(qrCodeStateQuery);
  assert.ok(
    after.continuedRuns > runsBefore,
    `continued as new during the stream (${runsBefore} -> ${after.continuedRuns} runs)`,
  );
  assert.deepEqual(after.pendingOrders, []);
  assert.equal(
    new Set(after.admissions.map((a) => a.outTradeNo)).size,
    orders.length,
    'each payment admitted once',
  );
  // A run that admitted payments and continued as new in the middle of the stream.
  for (let runId = (await code.describe()).runId; runId;) {
    const run = env.client.workflow.getHandle(code.workflowId, runId);
    const history = await run.fetchHistory();
    const events = history.events ?? [];
    const signalled = events.some((e) => e.workflowExecutionSignaledEventAttributes);
    if (signalled && events.some((e) => e.workflowExecutionContinuedAsNewEventAttributes)) {
      await maybeRecordHistory(run, 'admission-stream', 'qrcode');
      break;
    }
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? '';
  }
});

/**
 * A payment's history, event by event: its type, the workflow task whose completion wrote it
 * (0 before the first), the PaymentStatus it set, its marker or scheduled activity.
 */
async function historyOfRun(outTradeNo: string) {
  const handle = env.client.workflow.getHandle(paymentWorkflowId(PARTNER, outTradeNo));
  let task = 0;
  const events = ((await handle.fetchHistory()).events ?? []).map((e) => {
    const type =
      temporal.api.enums.v1.EventType[e.eventType ?? 0]?.replace('EVENT_TYPE_', '') ?? '?';
    if (type === 'WORKFLOW_TASK_COMPLETED') task += 1;
    const status =
      e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields
        ?.PaymentStatus?.data;
    return {
      type,
      task,
      status: status ? (JSON.parse(Buffer.from(status).toString()) as string) : undefined,
      name:
        e.markerRecordedEventAttributes?.markerName ??
        e.activityTaskScheduledEventAttributes?.activityType?.name ??
        undefined,
    };
  });
  const named = (type: string) => events.filter((e) => e.type === type).map((e) => e.name);
  return {
    handle,
    events,
    markers: named('MARKER_RECORDED'),
    scheduled: named('ACTIVITY_TASK_SCHEDULED'),
  };
}

test('lean confirmation: CONFIRMING published once, one patch marker, the first QUERY as a local activity once the code was asked', async () => {
  await startCode('L1');
  const paid = await waitForState(await pay('OT-L1-1', 'L1', '7.00'), settled);
  assert.equal(paid.status, 'PAID');
  assert.equal(paid.admission?.status, 'WALK_IN');
  assert.equal(fake.callsOf('OT-L1-1', 'confirmPayment').length, 1);
  const run = await historyOfRun('OT-L1-1');
  const describe = run.events
    .map((e) => `${e.task}:${e.type}${e.name ? `(${e.name})` : ''}`)
    .join(' ');
  assert.ok(!run.scheduled.includes('confirmPayment'), `no activity task for QUERY: ${describe}`);
  // Only the lean patch is asked: it implies every patch before it.
  assert.deepEqual(
    run.markers.filter((m) => m === 'core_patch'),
    ['core_patch'],
    describe,
  );
  const published = run.events.filter((e) => e.status);
  assert.deepEqual(
    published.map((e) => e.status),
    ['CONFIRMING', 'PAID'],
    `statuses published: ${describe}`,
  );
  assert.equal(published[0]!.task, 1);
  // The request to the code leaves with the first task; the QUERY marker comes with a later one.
  const request = run.events.find((e) => e.type === 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED');
  const query = run.events.find((e) => e.name === 'core_local_activity');
  assert.equal(request?.task, 1, describe);
  assert.ok(query && query.task > 1, describe);
  await maybeRecordHistory(run.handle, 'lean-confirmation');

  // A passing fault of the local QUERY is asked again on the durable path (an activity task).
  fake.script('OT-L1-2', {
    amountMinor: 800,
    paidAt: await env.currentTimeMs(),
    fail: { confirmPayment: [new AlipaySystemError('gateway', { service: SERVICES.QUERY })] },
  });
  const retried = await waitForState(await payScripted('OT-L1-2', 'L1', '8.00'), settled);
  assert.equal(retried.status, 'PAID');
  assert.equal(fake.callsOf('OT-L1-2', 'confirmPayment').length, 2);
  assert.deepEqual(
    (await historyOfRun('OT-L1-2')).scheduled.filter((a) => a === 'confirmPayment'),
    ['confirmPayment'],
  );

  // A final answer ("no such trade") is not asked again at once: the not-found path waits.
  fake.script('OT-L1-3', {
    paidAt: await env.currentTimeMs(),
    failAlways: {
      confirmPayment: () =>
        new AlipayBusinessError('business failure', {
          service: SERVICES.QUERY,
          alipayCode: 'TRADE_NOT_EXIST',
          ids: { outTradeNo: 'OT-L1-3' },
        }),
    },
  });
  const rejected = (await (await payScripted('OT-L1-3', 'L1', '9.00')).result()) as PaymentState;
  assert.equal(rejected.status, 'REJECTED');
  // 1 local + the 3 durable re-asks of NOT_FOUND_RETRY_DELAYS_MS.
  assert.equal(fake.callsOf('OT-L1-3', 'confirmPayment').length, 4);
  assert.equal(rejected.timeline.filter((e) => e.event === 'QUERY_NOT_FOUND').length, 3);
});
