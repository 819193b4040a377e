import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { AlipayRetryableBusinessError, AlipaySystemError } from '../../src/alipay';
import {
  cancelPaymentUpdate,
  paymentNotifiedSignal,
  paymentStateQuery,
} from '../../src/workflows/messages';
import { PaymentWorkflow, paymentWorkflowId } from '../../src/workflows/payment';
import type { PaymentWorkflowInput } from '../../src/workflows/payment-types';
import {
  FakeAlipay,
  PARTNER,
  maybeRecordHistory,
  notification,
  skipToGmt8,
  useFakeAlipayWorker,
  waitForStatus,
  terminateWhenIdle,
} from './payment-support';

// The PaymentWorkflow's story on the time-skipping server, with honest fakes at the activity
// boundary. `handle.result()` lets the server skip timers (midnight, the refund window).
let env: TestWorkflowEnvironment;
const fake = new FakeAlipay();
const taskQueue = 'payment-story';
const DAY = 24 * 3600_000;

useFakeAlipayWorker(taskQueue, fake, (ready) => {
  env = ready;
});

const systemError = () =>
  new AlipaySystemError('gateway', { service: 'alipay.acquire.overseas.query' });
const retryFlagY = () =>
  new AlipayRetryableBusinessError('FAIL retry_flag=Y', { service: 'alipay.acquire.cancel' });

/** Starts a payment the way the notification receiver does: signal-with-start. */
function pay(outTradeNo: string, input: Partial<PaymentWorkflowInput> = {}, paidAt?: number) {
  return env.client.workflow.signalWithStart(PaymentWorkflow, {
    taskQueue,
    workflowId: paymentWorkflowId(PARTNER, outTradeNo),
    args: [{ partnerId: PARTNER, outTradeNo, ...input }],
    signal: paymentNotifiedSignal,
    signalArgs: [notification(outTradeNo, paidAt !== undefined ? { paidAt } : {})],
  });
}

test('happy path: confirmed by QUERY, merchant told, PAID; the refund window ends -> CLOSED', async () => {
  const paidAt = await skipToGmt8(env, 12);
  fake.script('OT-HAPPY', { amountMinor: 1000, paidAt });
  const handle = await pay('OT-HAPPY', { refundWindowMs: 2 * DAY });
  const paid = await waitForStatus(handle, 'PAID');
  assert.equal(paid.paid, '10.00');
  assert.equal(paid.paidMinor, 1000);
  assert.equal(paid.currency, 'USD');
  assert.equal(paid.tradeNo, 'T-OT-HAPPY');
  assert.equal(paid.refundDeadline, paidAt + 2 * DAY);
  // The hook is delivered on its own, after PAID.
  for (let i = 0; fake.callsOf('OT-HAPPY', 'notifyMerchant').length === 0; i++) {
    assert.ok(i < 100, 'the merchant hook runs');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(
    fake.callsOf('OT-HAPPY').map((c) => c.name),
    ['confirmPayment', 'notifyMerchant'],
  );
  assert.equal(
    (fake.callsOf('OT-HAPPY', 'notifyMerchant')[0]!.args as { type: string }).type,
    'payment.confirmed',
  );

  const result = await handle.result(); // skips the two-day window
  assert.equal(result.status, 'CLOSED');
  assert.ok((await env.currentTimeMs()) >= paidAt + 2 * DAY);
  assert.deepEqual(
    result.timeline.map((e) => e.event),
    ['STARTED', 'NOTIFICATION_RECEIVED', 'CONFIRMING', 'ADMISSION', 'CONFIRMED', 'PAID', 'CLOSED'],
  );
  assert.deepEqual(
    result.admission,
    { status: 'NOT_CHECKED', detail: 'the notification names no store' },
    'recorded explicitly, never silently unchecked',
  );
  await maybeRecordHistory(handle, 'happy');
});

test('no notification within the deadline: one skipped day, then CLOSED', async () => {
  const startedAt = await env.currentTimeMs();
  const handle = await env.client.workflow.start(PaymentWorkflow, {
    taskQueue,
    workflowId: paymentWorkflowId(PARTNER, 'OT-TIMEOUT'),
    args: [
      {
        partnerId: PARTNER,
        outTradeNo: 'OT-TIMEOUT',
        expected: { amount: '88.00', currency: 'USD' },
      },
    ],
  });
  assert.equal((await handle.query(paymentStateQuery)).status, 'AWAITING_NOTIFICATION');
  const result = await handle.result();
  assert.equal(result.status, 'CLOSED');
  assert.ok((await env.currentTimeMs()) - startedAt >= DAY, 'a day was skipped');
  assert.deepEqual(
    result.timeline.map((e) => e.event),
    ['STARTED', 'NOTIFICATION_TIMED_OUT', 'CLOSED'],
  );
  assert.deepEqual(fake.callsOf('OT-TIMEOUT'), []);
});

test('amount differs from the expected order: CANCEL on the same GMT+8 day -> CANCELLED', async () => {
  const paidAt = await skipToGmt8(env, 10);
  fake.script('OT-MISMATCH', { amountMinor: 1000, paidAt });
  const handle = await pay('OT-MISMATCH', {
    expected: { amount: '88.00', currency: 'USD', orderId: 'O-1' },
  });
  const result = await handle.result();
  assert.equal(result.status, 'CANCELLED');
  assert.equal(result.reversal?.method, 'CANCEL');
  assert.equal(result.reversal?.outcome, 'DONE');
  assert.match(result.reversal!.reason, /paid 10\.00 USD, expected 88\.00 USD for order O-1/);
  assert.equal(fake.callsOf('OT-MISMATCH', 'cancelPayment').length, 1);
  assert.equal(fake.callsOf('OT-MISMATCH', 'refundPayment').length, 0);
  const hook = fake
    .callsOf('OT-MISMATCH', 'notifyMerchant')
    .map((c) => (c.args as { type: string }).type);
  assert.deepEqual(hook, ['payment.reversed']);
  await maybeRecordHistory(handle, 'mismatch-cancel');
});

test('CANCEL answered FAIL retry_flag=Y is retried with the same trade, then succeeds', async () => {
  const paidAt = await skipToGmt8(env, 9);
  fake.script('OT-RETRY', { paidAt, fail: { cancelPayment: [retryFlagY, retryFlagY] } });
  const handle = await pay('OT-RETRY', { codeActive: false });
  const result = await handle.result();
  assert.equal(result.status, 'CANCELLED');
  assert.match(result.reversal!.reason, /code is unknown or not active/);
  const cancels = fake.callsOf('OT-RETRY', 'cancelPayment');
  assert.equal(cancels.length, 3);
  assert.ok(cancels.every((c) => (c.args as { outTradeNo: string }).outTradeNo === 'OT-RETRY'));
});

test('GMT+8 day boundary: paid at 23:59:30, QUERY fails until after midnight -> REFUNDED, never cancelled', async () => {
  const paidAt = await skipToGmt8(env, 23, 59, 30);
  fake.script('OT-MIDNIGHT', { failAlways: { confirmPayment: systemError } });
  const handle = await pay('OT-MIDNIGHT', {}, paidAt);
  const result = await handle.result();
  assert.equal(result.status, 'REFUNDED');
  assert.equal(result.reversal?.method, 'REFUND');
  assert.match(result.reversal!.reason, /QUERY never conclusive \(AlipaySystemError/);
  assert.equal(fake.callsOf('OT-MIDNIGHT', 'cancelPayment').length, 0);
  assert.equal(fake.refundedMinor('OT-MIDNIGHT'), 1000);
  assert.equal(result.refunds.length, 1);
  assert.equal(result.refunds[0]!.reversal, true);
  assert.equal(result.refunds[0]!.status, 'SUCCEEDED');
  assert.equal(result.refundedMinor, 1000);
  assert.ok(fake.callsOf('OT-MIDNIGHT', 'confirmPayment').length >= 6);
  await maybeRecordHistory(handle, 'midnight-refund');
});

test('a CANCEL still failing at midnight is abandoned for a full REFUND', async () => {
  const paidAt = await skipToGmt8(env, 23, 59, 50);
  fake.script('OT-RACE', { paidAt, failAlways: { cancelPayment: retryFlagY } });
  const handle = await pay('OT-RACE', { expected: { amount: '1.00', currency: 'USD' } });
  const result = await handle.result();
  assert.equal(result.status, 'REFUNDED');
  assert.ok(fake.callsOf('OT-RACE', 'cancelPayment').length >= 1);
  assert.equal(fake.refundedMinor('OT-RACE'), 1000);
  const events = result.timeline.map((e) => e.event);
  assert.ok(events.includes('CANCEL_NOT_DONE'), events.join());
  assert.ok(result.timeline.find((e) => e.event === 'REFUND_SUCCEEDED')!.at >= paidAt + 10_000);
});

test('a merchant hook that keeps failing never reverses the payment: it is retried, durably, on its own', async () => {
  const paidAt = await skipToGmt8(env, 11);
  const down = () =>
    ApplicationFailure.create({ type: 'MerchantHookUnavailable', message: 'HTTP 503' });
  fake.script('OT-HOOK', { paidAt, fail: { notifyMerchant: Array.from({ length: 8 }, down) } });
  const handle = await pay('OT-HOOK');
  const paid = await waitForStatus(handle, 'PAID');
  assert.equal(paid.reversal, undefined);
  // The merchant's deploy ends: delivery goes on with back-off until it succeeds.
  for (let i = 0; fake.callsOf('OT-HOOK', 'notifyMerchant').length < 9; i++) {
    assert.ok(i < 200, 'the hook is retried until it answers');
    await env.sleep(60_000);
  }
  const state = await handle.query(paymentStateQuery);
  assert.equal(state.status, 'PAID');
  assert.equal(fake.callsOf('OT-HOOK', 'cancelPayment').length, 0, 'nothing reversed');
  await maybeRecordHistory(handle, 'durable-merchant-hook');
  await terminateWhenIdle(handle);
});

test('reverse-on-hook-failure policy: a hook failing past its deadline reverses the new payment', async () => {
  const paidAt = await skipToGmt8(env, 11, 30);
  fake.script('OT-HOOK-POLICY', {
    paidAt,
    failAlways: {
      notifyMerchant: () =>
        ApplicationFailure.create({ type: 'MerchantHookUnavailable', message: 'HTTP 503' }),
    },
  });
  const handle = await pay('OT-HOOK-POLICY', {
    merchantHook: { reverseOnFailure: { deadlineMs: 10 * 60_000 } },
  });
  const result = await handle.result();
  assert.equal(result.status, 'CANCELLED');
  assert.match(result.reversal!.reason, /merchant hook failed for 600 s/);
});

test('no merchant hook configured: nothing is scheduled for it', async () => {
  const paidAt = await skipToGmt8(env, 11, 45);
  fake.script('OT-NO-HOOK', { paidAt });
  const handle = await pay('OT-NO-HOOK', { merchantHook: false });
  await waitForStatus(handle, 'PAID');
  assert.deepEqual(
    fake.callsOf('OT-NO-HOOK').map((c) => c.name),
    ['confirmPayment'],
  );
  await terminateWhenIdle(handle);
});

test('duplicate and out-of-order notifications are recorded; the state never moves backwards', async () => {
  const paidAt = await skipToGmt8(env, 14);
  fake.script('OT-DUP', { paidAt });
  const handle = await pay('OT-DUP');
  await handle.signal(paymentNotifiedSignal, notification('OT-DUP')); // Alipay's retry: same notify_id
  await waitForStatus(handle, 'PAID');
  // A late notification with an older status arrives after the payment was confirmed.
  await handle.signal(
    paymentNotifiedSignal,
    notification('OT-DUP', { notifyId: 'N-OLD', tradeStatus: 'WAIT_BUYER_PAY' }),
  );
  await handle.signal(paymentNotifiedSignal, notification('OT-DUP'));
  const state = await handle.query(paymentStateQuery);
  assert.equal(state.status, 'PAID');
  const events = state.timeline.map((e) => e.event);
  assert.equal(events.filter((e) => e === 'NOTIFICATION_RECEIVED').length, 1);
  assert.equal(state.notificationRepeats, 2, 'repeats are counted, not put on the timeline');
  assert.equal(events.filter((e) => e === 'NOTIFICATION_REPEATED').length, 0);
  assert.equal(events.filter((e) => e === 'NOTIFICATION_LATE').length, 1);
  assert.deepEqual(state.notifyIds, ['N-OT-DUP', 'N-OLD']);
  assert.equal(fake.callsOf('OT-DUP', 'confirmPayment').length, 1);
  await terminateWhenIdle(handle);
});

test('cancel Update: accepted on the payment day, rejected after GMT+8 midnight', async () => {
  const now = await skipToGmt8(env, 15);
  fake.script('OT-CXL-1', { paidAt: now });
  // Paid yesterday at 23:59 Beijing time: its transaction day has ended.
  fake.script('OT-CXL-2', { paidAt: now - 15 * 3600_000 - 60_000 });
  const sameDay = await pay('OT-CXL-1');
  const nextDay = await pay('OT-CXL-2');
  await waitForStatus(sameDay, 'PAID');
  await waitForStatus(nextDay, 'PAID');

  // Checked first: awaiting a result lets the test server skip time for every open workflow.
  await assert.rejects(
    nextDay.executeUpdate(cancelPaymentUpdate, { args: [{}] }),
    (err: unknown) => {
      assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
      assert.ok(err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, 'PaymentUpdateRejected');
      assert.match(err.cause.message, /only possible on the GMT\+8 day of the payment; use refund/);
      return true;
    },
  );
  assert.equal((await nextDay.query(paymentStateQuery)).status, 'PAID');
  assert.equal(fake.callsOf('OT-CXL-2', 'cancelPayment').length, 0);
  await terminateWhenIdle(nextDay);

  const cancelled = await sameDay.executeUpdate(cancelPaymentUpdate, {
    args: [{ reason: 'customer changed mind' }],
  });
  assert.equal(cancelled.status, 'CANCELLED');
  assert.equal((await sameDay.result()).status, 'CANCELLED');
  assert.equal(fake.callsOf('OT-CXL-1', 'cancelPayment').length, 1);
  await maybeRecordHistory(sameDay, 'merchant-cancel');
});
