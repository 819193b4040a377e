import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { RequestRejectedError } from '../../src/client';
import { paymentWorkflowId } from '../../src/workflows/payment-types';
import type { PaymentState } from '../../src/workflows/payment-types';
import { createLocalEnv } from '../helpers/temporal';
import { codeBody, eventually, startStack, type Stack } from './support';

// What a merchant is told about a refund (issue 11, items 1 and 3), end to end on a dev server:
// a reused Idempotency-Key, a continued and a finished payment, a slow Alipay, the in-flight
// Update limit. The refund wait is short here (2.5 s) so that a slow REFUND outlasts it.
let env: TestWorkflowEnvironment;
let stack: Stack;
let qrcode: string;
const STORE = 'S-REFUNDS';

before(async () => {
  env = await createLocalEnv();
  stack = await startStack({
    temporalAddress: env.address,
    nativeConnection: env.nativeConnection,
    taskQueue: 'refund-answers',
    env: { REFUND_WAIT_MS: '2500' },
  });
  const created = await stack.api('POST', '/v1/codes', codeBody(STORE));
  assert.equal(created.status, 201, JSON.stringify(created.json));
  qrcode = created.json.qrcode;
});

after(async () => {
  await stack?.close();
  await env?.teardown();
});

async function paidPayment(amount: string): Promise<string> {
  const paid = stack.sandbox.pay({ qrcode, amount });
  await stack.sandbox.notifications.settled(paid.notifyId!, 20_000);
  await statusIs(paid.trade.outTradeNo, (s) => s.status === 'PAID');
  return paid.trade.outTradeNo;
}

function statusIs(outTradeNo: string, done: (s: PaymentState) => boolean) {
  return eventually(async () => {
    const s = await stack.engine.getPayment(outTradeNo);
    return done(s) ? s : undefined;
  }, `payment ${outTradeNo}`);
}

const refund = (outTradeNo: string, key: string, body: Record<string, unknown>) =>
  stack.api('POST', `/v1/payments/${outTradeNo}/refunds`, body, { 'idempotency-key': key });

const refundsAtAlipay = (outTradeNo: string) =>
  stack.sandbox.state.refunds().filter((r) => r['partner_trans_id'] === outTradeNo);

const isConflictOnRefundId = (err: unknown) =>
  err instanceof RequestRejectedError && err.kind === 'CONFLICT' && err.field === 'refundId';

test('a reused Idempotency-Key: the same parameters replay the first refund, others are 409 (HTTP and client)', async () => {
  const outTradeNo = await paidPayment('20.00');
  const first = await refund(outTradeNo, 'R-KEY', { amount: '5.00', reason: 'mug' });
  assert.equal(first.status, 201, JSON.stringify(first.json));
  assert.equal(first.headers.get('idempotent-replayed'), null);
  assert.equal(first.headers.get('location'), `/v1/payments/${outTradeNo}/refunds/R-KEY`);

  const again = await refund(outTradeNo, 'R-KEY', { amount: '5.00', reason: 'mug' });
  assert.equal(again.status, 201);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(again.json, first.json);

  const other = await refund(outTradeNo, 'R-KEY', { amount: '6.00', reason: 'mug' });
  assert.equal(other.status, 409, JSON.stringify(other.json));
  assert.equal(other.json.error.code, 'REQUEST_REJECTED');
  assert.equal(other.json.error.field, 'refundId');
  assert.match(other.json.error.message, /already used with other parameters/);
  const otherReason = await refund(outTradeNo, 'R-KEY', { amount: '5.00', reason: 'plate' });
  assert.equal(otherReason.status, 409);

  await assert.rejects(
    stack.engine.refund(outTradeNo, { refundId: 'R-KEY', amount: '6.00', reason: 'mug' }),
    isConflictOnRefundId,
  );
  const viaClient = await stack.engine.refund(outTradeNo, {
    refundId: 'R-KEY',
    amount: '5.00',
    reason: 'mug',
  });
  assert.equal(viaClient.replayed, true);
  assert.equal(viaClient.status, 'SUCCEEDED');

  assert.equal(refundsAtAlipay(outTradeNo).length, 1, 'one REFUND at Alipay');
  const state = await stack.engine.getPayment(outTradeNo);
  assert.equal(state.refunded, '5.00');
});

test('after continue-as-new and after the payment finished: replays answer, other parameters are 409', async () => {
  // The payment's workflow is started first with a small history limit (it continues as new
  // every other refund); Alipay's notification, held back a moment, then signals it.
  stack.sandbox.faults.add({ service: 'notification', kind: 'delay', ms: 1500 });
  const paid = stack.sandbox.pay({ qrcode, amount: '10.00' });
  const outTradeNo = paid.trade.outTradeNo;
  await stack.engine.temporal.workflow.start('PaymentWorkflow', {
    taskQueue: 'refund-answers',
    workflowId: paymentWorkflowId(stack.engine.partnerId, outTradeNo),
    args: [{ partnerId: stack.engine.partnerId, outTradeNo, maxHistoryEvents: 40 }],
  });
  await stack.sandbox.notifications.settled(paid.notifyId!, 20_000);
  await statusIs(outTradeNo, (s) => s.status === 'PAID');

  for (const [key, amount] of [
    ['R-C1', '1.00'],
    ['R-C2', '2.00'],
    ['R-C3', '3.00'],
  ] as const) {
    const res = await refund(outTradeNo, key, { amount });
    assert.equal(res.status, 201, JSON.stringify(res.json));
  }
  const continued = await statusIs(outTradeNo, (s) => s.continuedRuns >= 1);
  assert.equal(continued.refunded, '6.00');

  const replay = await refund(outTradeNo, 'R-C1', { amount: '1.00' });
  assert.equal(replay.status, 201);
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  assert.equal(replay.json.amount, '1.00');
  const conflict = await refund(outTradeNo, 'R-C1', { amount: '1.50' });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.json.error.field, 'refundId');

  // The rest: the payment is fully refunded and its workflow completes.
  const last = await refund(outTradeNo, 'R-END', { amount: '4.00' });
  assert.equal(last.status, 201);
  await eventually(async () => {
    const d = await stack.engine.temporal.workflow
      .getHandle(paymentWorkflowId(stack.engine.partnerId, outTradeNo))
      .describe();
    return d.status.name === 'COMPLETED' ? true : undefined;
  }, 'the payment workflow to complete');

  const finishedReplay = await refund(outTradeNo, 'R-END', { amount: '4.00' });
  assert.equal(finishedReplay.status, 201, JSON.stringify(finishedReplay.json));
  assert.equal(finishedReplay.headers.get('idempotent-replayed'), 'true');
  assert.equal(finishedReplay.json.refundId, 'R-END');
  const finishedConflict = await refund(outTradeNo, 'R-END', { amount: '3.00' });
  assert.equal(finishedConflict.status, 409);
  assert.equal(finishedConflict.json.error.field, 'refundId');
  await assert.rejects(
    stack.engine.refund(outTradeNo, { refundId: 'R-C2', amount: '2.01' }),
    isConflictOnRefundId,
  );
  const fresh = await refund(outTradeNo, 'R-NEW', { amount: '0.01' });
  assert.equal(fresh.status, 409);
  assert.match(fresh.json.error.message, /finished \(REFUNDED\)/);
  assert.equal(refundsAtAlipay(outTradeNo).length, 4, 'no REFUND for any repeat');
});

test('more than 10 concurrent refunds behind a slow REFUND: 202 with Location or 503 with Retry-After, never 500', async () => {
  const outTradeNo = await paidPayment('20.00');
  const slow = stack.sandbox.faults.add({
    service: 'REFUND',
    kind: 'slow',
    ms: 4000,
    times: 'always',
  });
  const answers = await Promise.all(
    Array.from({ length: 13 }, (_, i) => refund(outTradeNo, `R-MANY-${i}`, { amount: '0.10' })),
  );
  const statuses = answers.map((a) => a.status);
  assert.ok(
    statuses.every((s) => s === 202 || s === 503),
    `statuses ${statuses.join(',')}: ${JSON.stringify(answers.find((a) => a.status >= 500 && a.status !== 503)?.json)}`,
  );
  const unavailable = answers.filter((a) => a.status === 503);
  assert.ok(unavailable.length >= 1, `the in-flight Update limit (10): ${statuses.join(',')}`);
  for (const a of unavailable) {
    assert.equal(a.headers.get('retry-after'), '5');
    assert.equal(a.json.error.code, 'ENGINE_UNAVAILABLE');
    assert.doesNotMatch(a.json.error.message, /RESOURCE_EXHAUSTED|limit|grpc/i);
  }
  const accepted = answers.filter((a) => a.status === 202);
  assert.ok(accepted.length >= 1);
  for (const a of accepted) {
    assert.equal(a.json.status, 'PENDING');
    assert.match(a.headers.get('location') ?? '', /^\/v1\/payments\/.+\/refunds\/R-MANY-\d+$/);
  }
  stack.sandbox.faults.remove(slow.id);

  // The refunds go on durably: their status URL tells how each ended.
  const location = accepted[0]!.headers.get('location')!;
  const settled = await eventually(async () => {
    const res = await stack.api('GET', location);
    return res.status === 200 && res.json.status === 'SUCCEEDED' ? res.json : undefined;
  }, 'the first refund to succeed');
  assert.equal(settled.amount, '0.10');
  const missing = await stack.api('GET', `/v1/payments/${outTradeNo}/refunds/R-NONE`);
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error.code, 'REFUND_NOT_FOUND');
});
