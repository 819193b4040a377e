import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  paymentNotifiedSignal,
  paymentStateQuery,
  refundPaymentUpdate,
} from '../../src/workflows/messages';
import { PaymentWorkflow, paymentWorkflowId } from '../../src/workflows/payment';
import type {
  PaymentWorkflowInput,
  RefundEntry,
  RefundRequest,
  UpdateRejection,
} from '../../src/workflows/payment-types';
import type { MerchantEvent } from '../../src/activities/payment';
import { PaymentStatus, RefundedMinor } from '../../src/search-attributes';
import { gatewayRefundId } from '../../src/workflows/refund-ids';
import { assertUpdateFails } from '../helpers/updates';
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

// The `refund` Update on the time-skipping server: validation, one-at-a-time handlers, the ledger.
let env: TestWorkflowEnvironment;
const fake = new FakeAlipay();
const taskQueue = 'payment-refunds';

useFakeAlipayWorker(taskQueue, fake, async (ready) => {
  env = ready;
  await skipToGmt8(env, 12);
});

async function paid(
  outTradeNo: string,
  amountMinor: number,
  input: Partial<PaymentWorkflowInput> = {},
) {
  fake.script(outTradeNo, { amountMinor, paidAt: await env.currentTimeMs() });
  const handle = await env.client.workflow.signalWithStart(PaymentWorkflow, {
    taskQueue,
    workflowId: paymentWorkflowId(PARTNER, outTradeNo),
    args: [{ partnerId: PARTNER, outTradeNo, ...input }],
    signal: paymentNotifiedSignal,
    signalArgs: [notification(outTradeNo)],
  });
  await waitForStatus(handle, 'PAID');
  return handle;
}

const refund = (handle: WorkflowHandle, req: RefundRequest) =>
  handle.executeUpdate(refundPaymentUpdate, { args: [req] });

/** Asserts a validator refusal: its message and, when given, its `details[0]` category. */
const rejected = (promise: Promise<unknown>, message: RegExp, detail?: UpdateRejection) =>
  assertUpdateFails(promise, 'PaymentUpdateRejected', message, detail);

test('validator rejections: amount, decimals, balance, currency, reused ID, state', async () => {
  const handle = await paid('OT-VAL', 1000);
  const invalid = (field: string): UpdateRejection => ({ kind: 'INVALID', field });
  const conflict = (field: string): UpdateRejection => ({ kind: 'CONFLICT', field });
  await rejected(
    refund(handle, { refundId: 'R0', amount: '0' }),
    /greater than zero/,
    invalid('amount'),
  );
  await rejected(
    refund(handle, { refundId: 'R1', amount: '-1.00' }),
    /must not be negative/,
    invalid('amount'),
  );
  await rejected(refund(handle, { refundId: 'R2', amount: '1.005' }), /at most 2 decimals/);
  await rejected(refund(handle, { refundId: 'R3', amount: '1e2' }), /plain decimal/);
  await rejected(
    refund(handle, { refundId: 'R4', amount: '10.01' }),
    /exceeds the refundable 10\.00 USD/,
    conflict('amount'),
  );
  await rejected(
    refund(handle, { refundId: 'R5', amount: '1.00', currency: 'EUR' }),
    /differs from the payment's USD/,
    invalid('currency'),
  );
  await rejected(
    refund(handle, { refundId: '', amount: '1.00' }),
    /refundId is required/,
    invalid('refundId'),
  );
  await rejected(
    refund(handle, { refundId: 'OT-VAL', amount: '1.00' }),
    /must differ from the out_trade_no/,
  );

  const first = await refund(handle, { refundId: 'R-OK', amount: '4.00', reason: 'broken cup' });
  assert.equal(first.status, 'SUCCEEDED');
  await rejected(
    refund(handle, { refundId: 'R-OK', amount: '5.00', reason: 'broken cup' }),
    /already used with other parameters/,
    conflict('refundId'),
  );
  await rejected(
    refund(handle, { refundId: 'R6', amount: '6.01' }),
    /exceeds the refundable 6\.00 USD/,
  );
  assert.equal(
    fake.callsOf('OT-VAL', 'refundPayment').length,
    1,
    'nothing rejected reached Alipay',
  );
  await terminateWhenIdle(handle);
});

test('a repeated refund ID returns the first result and refunds once', async () => {
  const handle = await paid('OT-REPEAT', 1000);
  const first = await refund(handle, { refundId: 'R-1', amount: '2.50' });
  const again = await refund(handle, { refundId: 'R-1', amount: '2.50' });
  assert.deepEqual(again, { ...first, replayed: true });
  assert.equal(first.amountMinor, 250);
  assert.equal(first.amount, '2.50');
  assert.equal(fake.callsOf('OT-REPEAT', 'refundPayment').length, 1);
  const state = await handle.query(paymentStateQuery);
  assert.equal(state.status, 'PARTIALLY_REFUNDED');
  assert.equal(state.refunded, '2.50');
  assert.equal(state.refundable, '7.50');
  await terminateWhenIdle(handle);
});

test('20 concurrent refunds over the balance: exactly the affordable ones succeed, the ledger balances', async () => {
  const handle = await paid('OT-CONC', 10_000); // 100.00 USD
  // 20 x 7.00 = 140.00: exactly 14 fit.
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) => refund(handle, { refundId: `RC-${i}`, amount: '7.00' })),
  );
  const ok = results.filter(
    (r): r is PromiseFulfilledResult<RefundEntry> => r.status === 'fulfilled',
  );
  const failed = results.filter((r) => r.status === 'rejected');
  assert.equal(ok.length, 14);
  assert.ok(ok.every((r) => r.value.status === 'SUCCEEDED'));
  for (const r of failed) {
    const err = (r as PromiseRejectedResult).reason as WorkflowUpdateFailedError;
    assert.ok(err instanceof WorkflowUpdateFailedError);
    assert.match(String(err.cause?.message), /exceeds the refundable/);
    assert.deepEqual((err.cause as ApplicationFailure).details?.[0], {
      kind: 'CONFLICT',
      field: 'amount',
    });
  }
  const state = await handle.query(paymentStateQuery);
  const succeeded = state.refunds.filter((r) => r.status === 'SUCCEEDED');
  assert.equal(succeeded.length, 14);
  assert.equal(state.refundedMinor, 9800);
  assert.equal(state.reservedMinor, 0);
  assert.equal(state.refundableMinor, 200);
  assert.equal(
    succeeded.reduce((a, r) => a + r.amountMinor, 0),
    state.refundedMinor,
  );
  assert.equal(fake.refundedMinor('OT-CONC'), 9800, 'Alipay refunded exactly the ledger');
  assert.equal(fake.callsOf('OT-CONC', 'refundPayment').length, 14);

  // The rest empties the balance: REFUNDED, and the workflow completes.
  const last = await refund(handle, { refundId: 'RC-last', amount: '2.00' });
  assert.equal(last.status, 'SUCCEEDED');
  const result = await handle.result();
  assert.equal(result.status, 'REFUNDED');
  assert.equal(result.refundableMinor, 0);
  await maybeRecordHistory(handle, 'refunds');
});

test('the refund window expiry completes a partly refunded payment as CLOSED', async () => {
  const handle = await paid('OT-WINDOW', 1000, { refundWindowMs: 3600_000 });
  await refund(handle, { refundId: 'RW-1', amount: '1.00' });
  const result = await handle.result(); // skips the hour
  assert.equal(result.status, 'CLOSED');
  assert.equal(result.refunded, '1.00');
});

test('a refund answers once Alipay settled it; its merchant hook follows, and the run ends after it', async () => {
  let openGate: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const handle = await paid('OT-HOOK', 1000);
  fake.script('OT-HOOK', { amountMinor: 1000, refundHookGate: gate });
  // The whole balance: the payment is REFUNDED (final) while the merchant has not answered yet.
  const entry = await refund(handle, { refundId: 'RH-1', amount: '10.00' });
  assert.equal(entry.status, 'SUCCEEDED');
  assert.equal((await handle.query(paymentStateQuery)).status, 'REFUNDED');
  const hooks = () =>
    fake
      .callsOf('OT-HOOK', 'notifyMerchant')
      .filter((c) => (c.args as MerchantEvent).type === 'refund.succeeded');
  for (let i = 0; i < 100 && hooks().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(hooks().length, 1, 'the hook runs');
  assert.equal((await handle.describe()).status.name, 'RUNNING', 'the run waits for its hook');
  openGate();
  assert.equal((await handle.result()).status, 'REFUNDED');
});

test('continues as new only when idle, carrying the ledger: the balance and repeated IDs hold across runs', async () => {
  // About 22 history events per refund: 40 makes the payment continue as new every other refund.
  const started = await paid('OT-CAN', 10_000, { maxHistoryEvents: 40 });
  // Follows the newest run.
  const handle = env.client.workflow.getHandle<typeof PaymentWorkflow>(started.workflowId);
  const before: RefundEntry[] = [];
  for (const [i, amount] of ['10.00', '20.00', '30.00'].entries()) {
    // Sequential: a run only continues once no Update is in flight, right as one completes.
    before.push(await refund(handle, { refundId: `RCAN-${i}`, amount, reason: `item ${i}` }));
  }
  assert.ok(before.every((r) => r.status === 'SUCCEEDED'));
  // A refund answers before its merchant hook runs, and the run continues once that is done too.
  let described = await handle.describe();
  for (let i = 0; i < 100 && described.runId === started.signaledRunId; i++) {
    await new Promise((r) => setTimeout(r, 100));
    described = await handle.describe();
  }
  assert.notEqual(described.runId, started.signaledRunId, 'the run changed');
  assert.equal(described.raw.workflowExecutionInfo?.firstRunId, started.signaledRunId);
  assert.equal(described.typedSearchAttributes.get(PaymentStatus), 'PARTIALLY_REFUNDED');
  assert.equal(described.typedSearchAttributes.get(RefundedMinor), 6000);

  const carried = await handle.query(paymentStateQuery);
  assert.ok(carried.continuedRuns >= 1);
  assert.deepEqual(carried.refunds, before, 'the ledger is carried as it was');
  assert.equal(carried.paidMinor, 10_000);
  assert.equal(carried.refundedMinor, 6000);
  assert.equal(carried.reservedMinor, 0);
  assert.equal(carried.refundable, '40.00');
  assert.deepEqual(carried.notifyIds, ['N-OT-CAN']);
  const events = carried.timeline.map((e) => e.event);
  assert.equal(events.filter((e) => e === 'CONTINUED_AS_NEW').length, carried.continuedRuns);
  // Idle when it continued: every continuation follows a settled refund, never a pending one.
  events.forEach((e, i) => {
    if (e !== 'CONTINUED_AS_NEW') return;
    const upTo = events.slice(0, i);
    const count = (name: string) => upTo.filter((x) => x === name).length;
    assert.equal(count('REFUND_REQUESTED'), count('REFUND_SUCCEEDED'), events.join());
  });

  // After the continue: the balance still binds, and a repeated ID answers its first result.
  await rejected(
    refund(handle, { refundId: 'RCAN-over', amount: '40.01' }),
    /exceeds the refundable 40\.00 USD/,
  );
  assert.deepEqual(
    await refund(handle, { refundId: 'RCAN-0', amount: '10.00', reason: 'item 0' }),
    { ...before[0], replayed: true },
  );
  await rejected(
    refund(handle, { refundId: 'RCAN-1', amount: '20.00' }),
    /already used with other parameters/,
  );
  assert.equal(fake.callsOf('OT-CAN', 'refundPayment').length, 3, 'no second REFUND for RCAN-0');
  const last = await refund(handle, { refundId: 'RCAN-3', amount: '40.00' });
  assert.equal(last.status, 'SUCCEEDED');
  const result = await handle.result();
  assert.equal(result.status, 'REFUNDED');
  assert.equal(result.refundedMinor, 10_000);
  assert.deepEqual(
    result.refunds.map((r) => r.refundId),
    ['RCAN-0', 'RCAN-1', 'RCAN-2', 'RCAN-3'],
  );
  assert.equal(fake.refundedMinor('OT-CAN'), 10_000, 'Alipay refunded exactly the ledger');
  // The first run ends in CONTINUED_AS_NEW; the last one started from the carried ledger.
  await maybeRecordHistory(
    env.client.workflow.getHandle(started.workflowId, started.signaledRunId),
    'continued-first-run',
  );
  await maybeRecordHistory(handle, 'continued-last-run');
});

test('a maxHistoryEvents below 20 is refused at start (it would continue as new in a loop)', async () => {
  for (const maxHistoryEvents of [19, 0]) {
    const outTradeNo = `OT-TINY-${maxHistoryEvents}`;
    fake.script(outTradeNo, { amountMinor: 1000, paidAt: await env.currentTimeMs() });
    const handle = await env.client.workflow.signalWithStart(PaymentWorkflow, {
      taskQueue,
      workflowId: paymentWorkflowId(PARTNER, outTradeNo),
      args: [{ partnerId: PARTNER, outTradeNo, maxHistoryEvents }],
      signal: paymentNotifiedSignal,
      signalArgs: [notification(outTradeNo)],
    });
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(
        err instanceof WorkflowFailedError,
        `expected a workflow failure, got ${String(err)}`,
      );
      assert.ok(err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, 'PaymentInvalidInput');
      assert.equal(err.cause.nonRetryable, true);
      assert.match(
        err.cause.message,
        new RegExp(
          `maxHistoryEvents must be a number of at least 20 \\(got ${maxHistoryEvents}\\)`,
        ),
      );
      return true;
    });
    assert.equal(fake.callsOf(outTradeNo).length, 0, 'nothing reached Alipay');
  }
});

test('the same refund ID on two payments is two refunds at Alipay: the sent ID is derived per payment', async () => {
  const first = await paid('OT-KEY-A', 1000);
  const second = await paid('OT-KEY-B', 1000);
  const a = await first.executeUpdate(refundPaymentUpdate, {
    args: [{ refundId: 'R-1', amount: '1.00' }],
  });
  const b = await second.executeUpdate(refundPaymentUpdate, {
    args: [{ refundId: 'R-1', amount: '2.00' }],
  });
  assert.deepEqual([a.status, b.status], ['SUCCEEDED', 'SUCCEEDED']);
  assert.equal(a.gatewayRefundId, gatewayRefundId(PARTNER, 'OT-KEY-A', 'R-1'));
  assert.equal(b.gatewayRefundId, gatewayRefundId(PARTNER, 'OT-KEY-B', 'R-1'));
  assert.notEqual(a.gatewayRefundId, b.gatewayRefundId);
  assert.match(a.gatewayRefundId!, /^R[0-9a-f]{40}$/);
  const sent = (outTradeNo: string) =>
    fake.callsOf(outTradeNo, 'refundPayment').map((c) => (c.args as { refundId: string }).refundId);
  assert.deepEqual(sent('OT-KEY-A'), [a.gatewayRefundId]);
  assert.deepEqual(sent('OT-KEY-B'), [b.gatewayRefundId]);
  assert.deepEqual([fake.refundedMinor('OT-KEY-A'), fake.refundedMinor('OT-KEY-B')], [100, 200]);
  await maybeRecordHistory(first, 'derived-refund-id');
});
