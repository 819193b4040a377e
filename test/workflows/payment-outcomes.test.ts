import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  AlipayBusinessError,
  AlipayOutcomeUnknownError,
  AlipayTimeoutError,
  AlipayUnknownCodeError,
  SERVICES,
} from '../../src/alipay';
import { PaymentStatus, RefundedMinor } from '../../src/search-attributes';
import {
  cancelPaymentUpdate,
  paymentNotifiedSignal,
  paymentStateQuery,
  refundPaymentUpdate,
  resolveByOperatorUpdate,
} from '../../src/workflows/messages';
import { PaymentWorkflow, paymentWorkflowId } from '../../src/workflows/payment';
import {
  NOT_FOUND_RETRY_DELAYS_MS,
  QUERY_NOT_FOUND_RETRY_PATCH,
} from '../../src/workflows/payment-calls';
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

// How a payment ends when Alipay's answers are not the happy ones: unknown reversal outcomes,
// a trade that is already closed, a CANCEL that went through although its answer was lost, and
// QUERY not finding a trade right after its notification (MAPI.md §9.5).
let env: TestWorkflowEnvironment;
const fake = new FakeAlipay();
const taskQueue = 'payment-outcomes';
const DAY = 24 * 3600_000;

useFakeAlipayWorker(taskQueue, fake, (ready) => {
  env = ready;
});

const notFound = () =>
  new AlipayBusinessError('business failure', {
    service: SERVICES.QUERY,
    alipayCode: 'TRADE_NOT_EXIST',
  });

function pay(outTradeNo: string, input: Partial<PaymentWorkflowInput> = {}, paidAt?: number) {
  return env.client.workflow.signalWithStart(PaymentWorkflow, {
    taskQueue,
    workflowId: paymentWorkflowId(PARTNER, outTradeNo),
    args: [{ partnerId: PARTNER, outTradeNo, ...input }],
    signal: paymentNotifiedSignal,
    signalArgs: [notification(outTradeNo, paidAt !== undefined ? { paidAt } : {})],
  });
}

/** What the Web UI shows as the workflow's current details. */
async function currentDetails(handle: WorkflowHandle): Promise<string> {
  const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return meta.currentDetails ?? '';
}

const unknownCode = (service: string) => () =>
  new AlipayUnknownCodeError('unknown business error code', {
    service,
    alipayCode: 'SOMETHING_NEW',
  });

const eventsOf = (timeline: { event: string }[]) => timeline.map((e) => e.event);

/** Asserts that an Update was refused by its validator with a message matching `reason`. */
function refusedWith(reason: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof WorkflowUpdateFailedError);
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.type, 'PaymentUpdateRejected');
    assert.match(err.cause.message, reason);
    return true;
  };
}

test('a reversal whose REFUND outcome stays unknown -> FAILED_NEEDS_OPERATOR: queried, searchable, never completed as refunded', async () => {
  const now = await skipToGmt8(env, 15);
  // Paid yesterday at 23:59 Beijing time: CANCEL is over, the reversal is a REFUND.
  const paidAt = now - 15 * 3600_000 - 60_000;
  fake.script('OT-OPERATOR', {
    paidAt,
    fail: {
      refundPayment: [
        () => new AlipayOutcomeUnknownError({ service: SERVICES.REFUND }),
        () => new AlipayOutcomeUnknownError({ service: SERVICES.REFUND }),
        // Alipay finally answers with a code nobody knows: the outcome stays unknown.
        unknownCode(SERVICES.REFUND),
      ],
    },
  });
  const handle = await pay('OT-OPERATOR', { codeActive: false, refundWindowMs: 2 * DAY });
  await env.sleep(10_000); // skips the REFUND retries' back-off
  const state = await waitForStatus(handle, 'FAILED_NEEDS_OPERATOR');
  assert.match(state.operatorReason!, /automatic REFUND UNKNOWN: AlipayUnknownCodeError/);
  assert.equal(state.reversal?.outcome, 'UNKNOWN');
  assert.match(state.reversal!.reason, /code is unknown or not active/);
  assert.equal(state.refunds.length, 1);
  assert.equal(state.refunds[0]!.status, 'UNKNOWN');
  assert.equal(state.refunds[0]!.reversal, true);
  // The unknown refund keeps its amount reserved: nothing is refundable, nothing counted refunded.
  assert.equal(state.reservedMinor, 1000);
  assert.equal(state.refundedMinor, 0);
  assert.equal(state.refundableMinor, 0);
  assert.equal(fake.callsOf('OT-OPERATOR', 'refundPayment').length, 3);
  assert.equal(fake.callsOf('OT-OPERATOR', 'cancelPayment').length, 0);

  const described = await handle.describe();
  assert.equal(described.typedSearchAttributes.get(PaymentStatus), 'FAILED_NEEDS_OPERATOR');
  assert.equal(described.typedSearchAttributes.get(RefundedMinor), 0);
  const details = await currentDetails(handle);
  assert.match(details, /^\*\*FAILED_NEEDS_OPERATOR\*\*/);
  assert.match(details, /\*\*Needs an operator:\*\* automatic REFUND UNKNOWN/);
  assert.match(details, /Reversal: … UNKNOWN/);

  // The merchant cannot refund on top of an unknown reversal.
  await assert.rejects(
    handle.executeUpdate(refundPaymentUpdate, { args: [{ refundId: 'R-X', amount: '1.00' }] }),
    (err: unknown) => {
      assert.ok(err instanceof WorkflowUpdateFailedError);
      assert.ok(err.cause instanceof ApplicationFailure);
      assert.match(err.cause.message, /FAILED_NEEDS_OPERATOR payment cannot be refunded/);
      return true;
    },
  );

  // The refund window ends; the payment still says it needs an operator.
  const result = await handle.result();
  assert.equal(result.status, 'FAILED_NEEDS_OPERATOR');
  const events = eventsOf(result.timeline);
  for (const silent of ['REFUNDED', 'CANCELLED', 'CLOSED'])
    assert.ok(!events.includes(silent), events.join());
  assert.equal(
    (await handle.describe()).typedSearchAttributes.get(PaymentStatus),
    'FAILED_NEEDS_OPERATOR',
  );
  const hooks = fake.callsOf('OT-OPERATOR', 'notifyMerchant');
  assert.ok(hooks.every((c) => (c.args as { type: string }).type !== 'payment.reversed'));
  assert.equal(fake.refundedMinor('OT-OPERATOR'), 0);
  await maybeRecordHistory(handle, 'reversal-needs-operator');
});

test('QUERY says the trade is already TRADE_CLOSED -> CLOSED, nothing reversed', async () => {
  fake.script('OT-CLOSED', { status: 'TRADE_CLOSED', paidAt: await env.currentTimeMs() });
  const result = await (await pay('OT-CLOSED')).result();
  assert.equal(result.status, 'CLOSED');
  assert.equal(result.reversal, undefined);
  assert.equal(result.paidMinor, 0);
  assert.deepEqual(result.refunds, []);
  assert.deepEqual(eventsOf(result.timeline), [
    'STARTED',
    'NOTIFICATION_RECEIVED',
    'CONFIRMING',
    'ADMISSION',
    'CLOSED',
  ]);
  assert.match(result.timeline.at(-1)!.detail!, /Alipay reports the trade closed/);
  assert.deepEqual(
    fake.callsOf('OT-CLOSED').map((c) => c.name),
    ['confirmPayment'],
  );
});

test('CANCEL answers lost until midnight, REFUND then refused, QUERY shows the CANCEL went through -> CANCELLED', async () => {
  const paidAt = await skipToGmt8(env, 23, 59, 50);
  fake.script('OT-LATE-CXL', {
    paidAt,
    // Every CANCEL reaches Alipay (the trade closes) but its answer times out on the way back.
    loseAnswerAlways: {
      cancelPayment: () =>
        new AlipayTimeoutError('read', { service: SERVICES.CANCEL, outcomeUnknown: true }),
    },
  });
  const handle = await pay('OT-LATE-CXL', { expected: { amount: '1.00', currency: 'USD' } });
  const result = await handle.result();
  assert.equal(result.status, 'CANCELLED');
  assert.deepEqual([result.refundable, result.refundableMinor], ['0.00', 0], 'cancelled: 0 left');
  assert.equal(result.reversal?.method, 'CANCEL');
  assert.equal(result.reversal?.outcome, 'DONE');
  assert.equal(result.reversal?.detail, 'confirmed by QUERY after REFUND was refused');
  assert.ok(fake.callsOf('OT-LATE-CXL', 'cancelPayment').length >= 1);
  assert.equal(fake.callsOf('OT-LATE-CXL', 'refundPayment').length, 1);
  assert.equal(result.refunds.length, 1);
  assert.equal(result.refunds[0]!.status, 'FAILED');
  assert.match(result.refunds[0]!.failure!, /AlipayBusinessError: .*code=TRADE_HAS_CLOSE/);
  assert.equal(result.refundedMinor, 0);
  assert.equal(result.reservedMinor, 0);
  assert.equal(fake.refundedMinor('OT-LATE-CXL'), 0, 'no money moved twice');
  const events = eventsOf(result.timeline);
  assert.deepEqual(events.slice(events.indexOf('REVERSING')), [
    'REVERSING',
    'CANCEL_NOT_DONE',
    'REFUND_REQUESTED',
    'REFUND_FAILED',
    'CANCELLED',
  ]);
  // The QUERY that settled it came after midnight, after the refused REFUND.
  const queries = fake.callsOf('OT-LATE-CXL', 'confirmPayment');
  assert.equal(queries.length, 2);
  assert.equal(fake.calls.at(-2)?.name, 'confirmPayment');
  const hooks = fake
    .callsOf('OT-LATE-CXL', 'notifyMerchant')
    .map((c) => (c.args as { type: string }).type);
  assert.deepEqual(hooks, ['payment.reversed']);
});

test('QUERY finds no trade once right after the notification, then finds it -> PAID (patched retry)', async () => {
  const paidAt = await skipToGmt8(env, 12);
  fake.script('OT-NOTFOUND-1', { paidAt, fail: { confirmPayment: [notFound] } });
  const handle = await pay('OT-NOTFOUND-1', { refundWindowMs: 3600_000 });
  const result = await handle.result(); // skips the back-off, then the hour of refunds
  assert.equal(result.status, 'CLOSED');
  assert.equal(result.paid, '10.00');
  assert.equal(result.reversal, undefined);
  assert.deepEqual(eventsOf(result.timeline), [
    'STARTED',
    'NOTIFICATION_RECEIVED',
    'CONFIRMING',
    'ADMISSION',
    'QUERY_NOT_FOUND',
    'CONFIRMED',
    'PAID',
    'CLOSED',
  ]);
  const at = (event: string) => result.timeline.find((e) => e.event === event)!.at;
  assert.ok(at('CONFIRMED') - at('QUERY_NOT_FOUND') >= NOT_FOUND_RETRY_DELAYS_MS[0]!);
  assert.deepEqual(
    fake.callsOf('OT-NOTFOUND-1').map((c) => c.name),
    ['confirmPayment', 'confirmPayment', 'notifyMerchant'],
  );
  // The new branch is versioned: its history carries the patch marker.
  const history = await handle.fetchHistory();
  const markers = (history.events ?? []).flatMap((e) => e.markerRecordedEventAttributes ?? []);
  const patches = markers
    .filter((m) => m.markerName === 'core_patch')
    .map((m) => {
      const data = m.details?.['patch-data']?.payloads?.[0]?.data;
      return JSON.parse(Buffer.from(data!).toString()) as { id: string; deprecated: boolean };
    });
  assert.deepEqual(
    patches.find((p) => p.id === QUERY_NOT_FOUND_RETRY_PATCH),
    { id: QUERY_NOT_FOUND_RETRY_PATCH, deprecated: false },
    `patches: ${patches.map((p) => p.id).join(', ')}`,
  );
  await maybeRecordHistory(handle, 'query-not-found');
});

test('QUERY never finds the trade: three more tries over a minute, then REJECTED with no money call', async () => {
  const paidAt = await skipToGmt8(env, 10);
  fake.script('OT-NOTFOUND-ALL', { paidAt, failAlways: { confirmPayment: notFound } });
  const handle = await pay('OT-NOTFOUND-ALL', {}, paidAt);
  const result = await handle.result();
  assert.equal(result.status, 'REJECTED');
  assert.match(
    result.timeline.at(-1)!.detail!,
    /Alipay does not know this trade .*TRADE_NOT_EXIST/,
  );
  assert.equal(
    fake.callsOf('OT-NOTFOUND-ALL', 'confirmPayment').length,
    1 + NOT_FOUND_RETRY_DELAYS_MS.length,
  );
  const events = eventsOf(result.timeline);
  assert.equal(events.filter((e) => e === 'QUERY_NOT_FOUND').length, 3);
  // Nothing was paid, nothing is refundable, and nothing was sent to move money.
  assert.deepEqual([result.paidMinor, result.refundableMinor, result.reversal], [0, 0, undefined]);
  assert.equal(fake.callsOf('OT-NOTFOUND-ALL', 'cancelPayment').length, 0);
  assert.equal(fake.callsOf('OT-NOTFOUND-ALL', 'refundPayment').length, 0);
  await maybeRecordHistory(handle, 'unknown-trade-rejected');
});

test('notify_verify answers false for a trade QUERY confirms: recorded, the payment is kept', async () => {
  const paidAt = await skipToGmt8(env, 11);
  fake.script('OT-NV-FALSE', { paidAt, notifyVerified: false });
  const handle = await pay('OT-NV-FALSE', {}, paidAt);
  const paid = await waitForStatus(handle, 'PAID');
  assert.equal(paid.reversal, undefined);
  assert.ok(eventsOf(paid.timeline).includes('NOTIFY_VERIFY_FALSE'));
  assert.equal(fake.callsOf('OT-NV-FALSE', 'cancelPayment').length, 0);
  await maybeRecordHistory(handle, 'notify-verify-false-kept');
  await terminateWhenIdle(handle);
});

test('a merchant CANCEL whose outcome is unknown and QUERY cannot tell -> FAILED_NEEDS_OPERATOR, not PAID', async () => {
  const paidAt = await skipToGmt8(env, 16);
  fake.script('OT-CXL-UNKNOWN', { paidAt });
  const handle = await pay('OT-CXL-UNKNOWN');
  await waitForStatus(handle, 'PAID');
  // From now on CANCEL answers a code nobody knows, and so does the QUERY that should settle it.
  fake.script('OT-CXL-UNKNOWN', {
    paidAt,
    failAlways: {
      cancelPayment: unknownCode(SERVICES.CANCEL),
      confirmPayment: unknownCode(SERVICES.QUERY),
    },
  });
  await assert.rejects(
    handle.executeUpdate(cancelPaymentUpdate, { args: [{ reason: 'wrong table' }] }),
    (err: unknown) => {
      assert.ok(err instanceof WorkflowUpdateFailedError);
      assert.ok(err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, 'PaymentUpdateFailed');
      assert.match(err.cause.message, /CANCEL outcome unknown, an operator must check/);
      return true;
    },
  );
  const state = await waitForStatus(handle, 'FAILED_NEEDS_OPERATOR');
  assert.match(
    state.operatorReason!,
    /CANCEL UNKNOWN and QUERY inconclusive: AlipayUnknownCodeError/,
  );
  assert.equal(state.reversal?.outcome, 'UNKNOWN');
  assert.equal(
    (await handle.describe()).typedSearchAttributes.get(PaymentStatus),
    'FAILED_NEEDS_OPERATOR',
  );
  assert.equal(fake.callsOf('OT-CXL-UNKNOWN', 'cancelPayment').length, 1);
  assert.equal(fake.callsOf('OT-CXL-UNKNOWN', 'confirmPayment').length, 2);
  await maybeRecordHistory(handle, 'merchant-cancel-needs-operator');
  await terminateWhenIdle(handle);
});

test('resolveByOperator: an unknown reversal REFUND that went through -> REVERSED -> REFUNDED, completed', async () => {
  const now = await skipToGmt8(env, 15);
  const paidAt = now - 15 * 3600_000 - 60_000; // yesterday in Beijing: the reversal is a REFUND
  fake.script('OT-RESOLVE-RV', {
    paidAt,
    fail: { refundPayment: [unknownCode(SERVICES.REFUND)] },
  });
  const handle = await pay('OT-RESOLVE-RV', { codeActive: false, refundWindowMs: 2 * DAY });
  const stuck = await waitForStatus(handle, 'FAILED_NEEDS_OPERATOR');
  assert.equal(stuck.refunds.length, 1);
  const reversalRefund = stuck.refunds[0]!;
  assert.equal(reversalRefund.status, 'UNKNOWN');
  assert.equal(reversalRefund.reversal, true);

  // Every UNKNOWN refund needs an outcome, a note is required, and only UNKNOWN IDs are accepted.
  await assert.rejects(
    handle.executeUpdate(resolveByOperatorUpdate, {
      args: [{ outcome: 'REVERSED', note: 'refund found in the portal' }],
    }),
    refusedWith(
      new RegExp(`must settle every UNKNOWN refund; missing: ${reversalRefund.refundId}`),
    ),
  );
  await assert.rejects(
    handle.executeUpdate(resolveByOperatorUpdate, {
      args: [
        {
          outcome: 'REVERSED',
          note: '  ',
          refundOutcomes: { [reversalRefund.refundId]: 'SUCCEEDED' },
        },
      ],
    }),
    refusedWith(/a note is required/),
  );
  await assert.rejects(
    handle.executeUpdate(resolveByOperatorUpdate, {
      args: [
        {
          outcome: 'REVERSED',
          note: 'checked',
          refundOutcomes: { [reversalRefund.refundId]: 'SUCCEEDED', 'R-NOPE': 'FAILED' },
        },
      ],
    }),
    refusedWith(/R-NOPE, which is not an UNKNOWN refund/),
  );
  const unchanged = await handle.query(paymentStateQuery);
  assert.equal(unchanged.status, 'FAILED_NEEDS_OPERATOR');
  assert.equal(unchanged.refunds[0]!.status, 'UNKNOWN');

  const resolved = await handle.executeUpdate(resolveByOperatorUpdate, {
    args: [
      {
        outcome: 'REVERSED',
        note: 'refund found in the reconciliation file',
        refundOutcomes: { [reversalRefund.refundId]: 'SUCCEEDED' },
      },
    ],
  });
  assert.equal(resolved.status, 'REFUNDED');
  assert.equal(resolved.refundedMinor, resolved.paidMinor);
  assert.equal(resolved.refundedMinor, 1000);
  assert.equal(resolved.reservedMinor, 0);
  assert.equal(resolved.refundableMinor, 0);
  assert.equal(resolved.refunds[0]!.status, 'SUCCEEDED');
  assert.equal(resolved.reversal?.outcome, 'DONE');
  assert.equal(resolved.reversal?.method, 'REFUND');
  assert.equal(resolved.operatorReason, undefined);
  const resolvedEvent = resolved.timeline.find((e) => e.event === 'OPERATOR_RESOLVED');
  assert.equal(resolvedEvent?.detail, 'REVERSED: refund found in the reconciliation file');
  assert.deepEqual(eventsOf(resolved.timeline).slice(-3), [
    'REFUND_SUCCEEDED',
    'OPERATOR_RESOLVED',
    'REFUNDED',
  ]);

  // Nothing is left: the workflow completes at once, not at the end of its window.
  const result = await handle.result();
  assert.equal(result.status, 'REFUNDED');
  const described = await handle.describe();
  assert.equal(described.status.name, 'COMPLETED');
  assert.ok(described.closeTime!.getTime() < result.refundDeadline!, 'closed before the window');
  assert.equal(described.typedSearchAttributes.get(PaymentStatus), 'REFUNDED');
  assert.equal(described.typedSearchAttributes.get(RefundedMinor), 1000);
  assert.doesNotMatch(await currentDetails(handle), /Needs an operator/);
  assert.equal(fake.callsOf('OT-RESOLVE-RV', 'refundPayment').length, 1);
  await maybeRecordHistory(handle, 'operator-resolved-reversed');
});

test('resolveByOperator: an unknown merchant refund that failed -> NOT_REVERSED -> PAID, refunds work again', async () => {
  const paidAt = await skipToGmt8(env, 11);
  fake.script('OT-RESOLVE-RF', { paidAt });
  const handle = await pay('OT-RESOLVE-RF', { refundWindowMs: DAY });
  await waitForStatus(handle, 'PAID');
  fake.script('OT-RESOLVE-RF', {
    paidAt,
    fail: { refundPayment: [unknownCode(SERVICES.REFUND)] },
  });
  const lost = await handle.executeUpdate(refundPaymentUpdate, {
    args: [{ refundId: 'R-LOST', amount: '4.00' }],
  });
  assert.equal(lost.status, 'UNKNOWN');
  const stuck = await waitForStatus(handle, 'FAILED_NEEDS_OPERATOR');
  assert.match(stuck.operatorReason!, /REFUND R-LOST outcome unknown/);
  assert.equal(stuck.reservedMinor, 400);
  assert.equal(stuck.refundableMinor, 600);

  const resolved = await handle.executeUpdate(resolveByOperatorUpdate, {
    args: [
      {
        outcome: 'NOT_REVERSED',
        note: 'R-LOST is not in the portal',
        refundOutcomes: { 'R-LOST': 'FAILED' },
      },
    ],
  });
  assert.equal(resolved.status, 'PAID');
  assert.equal(resolved.reservedMinor, 0);
  assert.equal(resolved.refundedMinor, 0);
  assert.equal(resolved.refundableMinor, 1000);
  assert.equal(resolved.refunds[0]!.status, 'FAILED');
  assert.match(resolved.refunds[0]!.failure!, /^operator: R-LOST is not in the portal \(was /);
  assert.equal(resolved.reversal, undefined);
  assert.equal((await handle.describe()).typedSearchAttributes.get(PaymentStatus), 'PAID');

  // Resolved once: a second resolution is refused, a new refund goes through.
  await assert.rejects(
    handle.executeUpdate(resolveByOperatorUpdate, {
      args: [{ outcome: 'NOT_REVERSED', note: 'again' }],
    }),
    refusedWith(/a PAID payment needs no operator/),
  );
  const again = await handle.executeUpdate(refundPaymentUpdate, {
    args: [{ refundId: 'R-AGAIN', amount: '4.00' }],
  });
  assert.equal(again.status, 'SUCCEEDED');
  const state = await waitForStatus(handle, 'PARTIALLY_REFUNDED');
  assert.equal(state.refundedMinor, 400);
  assert.equal(fake.refundedMinor('OT-RESOLVE-RF'), 400);

  // The window ends as usual.
  const result = await handle.result();
  assert.equal(result.status, 'CLOSED');
  assert.equal(result.refunded, '4.00');
  const events = eventsOf(result.timeline);
  assert.ok(events.indexOf('OPERATOR_RESOLVED') < events.lastIndexOf('REFUND_SUCCEEDED'));
  await maybeRecordHistory(handle, 'operator-resolved-not-reversed');
});

test('resolveByOperator on a PAID payment is refused, nothing changes', async () => {
  const paidAt = await skipToGmt8(env, 9);
  fake.script('OT-RESOLVE-PAID', { paidAt });
  const handle = await pay('OT-RESOLVE-PAID');
  await waitForStatus(handle, 'PAID');
  await assert.rejects(
    handle.executeUpdate(resolveByOperatorUpdate, {
      args: [{ outcome: 'REVERSED', note: 'looked fine to me' }],
    }),
    refusedWith(/a PAID payment needs no operator \(only FAILED_NEEDS_OPERATOR\)/),
  );
  const state = await handle.query(paymentStateQuery);
  assert.equal(state.status, 'PAID');
  assert.ok(!eventsOf(state.timeline).includes('OPERATOR_RESOLVED'));
  await terminateWhenIdle(handle);
});
