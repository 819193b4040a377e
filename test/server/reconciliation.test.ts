import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { gmt8Date } from '../../src/time';
import type { PaymentState } from '../../src/workflows/payment-types';
import {
  reconciliationScheduleId,
  reconciliationWorkflowId,
  type ReconciliationReport,
} from '../../src/workflows/reconciliation-types';
import { createLocalEnv } from '../helpers/temporal';
import { maybeRecordHistory } from '../workflows/payment-support';
import { codeBody, eventually, startStack, type Stack } from './support';

// Reconciliation end to end on a dev server: the engine as `npm start` assembles it (worker with
// the reconciliation activities and the daily Schedule, HTTP service), the sandbox as Alipay
// with its files on its real SFTP server. Each test changes the day's payments, produces the
// day's files from the sandbox's state and reconciles through the merchant API.
let env: TestWorkflowEnvironment;
let stack: Stack;
let qrcode: string;
let day: string;
const STORE = 'S-RECON';

before(async () => {
  env = await createLocalEnv();
  stack = await startStack({
    temporalAddress: env.address,
    nativeConnection: env.nativeConnection,
    taskQueue: 'engine-recon',
  });
  const created = await stack.api('POST', '/v1/codes', codeBody(STORE));
  assert.equal(created.status, 201, JSON.stringify(created.json));
  qrcode = created.json.qrcode;
  day = gmt8Date(stack.sandbox.clock.now());
});

after(async () => {
  await stack?.close();
  await env?.teardown();
});

async function paidThroughNotification(amount: string): Promise<string> {
  const paid = stack.sandbox.pay({ qrcode, amount });
  await stack.sandbox.notifications.settled(paid.notifyId!, 20_000);
  await paymentIs(paid.trade.outTradeNo, (s) => s.status === 'PAID');
  return paid.trade.outTradeNo;
}

async function payment(outTradeNo: string): Promise<PaymentState> {
  const res = await stack.api('GET', `/v1/payments/${outTradeNo}`);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json as PaymentState;
}

function paymentIs(outTradeNo: string, done: (s: PaymentState) => boolean) {
  return eventually(async () => {
    const res = await stack.api('GET', `/v1/payments/${outTradeNo}`);
    return res.status === 200 && done(res.json) ? (res.json as PaymentState) : undefined;
  }, `payment ${outTradeNo}`);
}

/** The day's files from the sandbox's state now, then a reconciliation run through the API. */
async function reconcile(): Promise<ReconciliationReport> {
  stack.sandbox.recon.produce(day);
  const res = await stack.api('POST', `/v1/reconciliation/${day}?wait=true`, { graceMinutes: 0 });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json as ReconciliationReport;
}

/** Keeps the day's latest run as a replay fixture (RECORD_HISTORIES=1). */
const recordLatestRun = (name: string) =>
  maybeRecordHistory(
    stack.engine.temporal.workflow.getHandle(
      reconciliationWorkflowId(stack.config.alipay.gateway.partner, day),
    ),
    name,
    'reconciliation',
  );

const kinds = (r: ReconciliationReport) => r.discrepancies.map((d) => d.kind);

describe('reconciliation against the sandbox files', () => {
  it('a payment whose notifications were all dropped ends PAID via reconciliation', async () => {
    const normal = await paidThroughNotification('5.00');
    stack.sandbox.faults.add({ service: 'notification', kind: 'drop' });
    const lost = stack.sandbox.pay({ qrcode, amount: '12.00' }).trade;
    assert.equal((await stack.api('GET', `/v1/payments/${lost.outTradeNo}`)).status, 404);

    const report = await reconcile();
    assert.equal(report.status, 'RECONCILED');
    assert.deepEqual(kinds(report), []);
    assert.equal(report.counts.RECOVERED, 1);
    assert.equal(report.counts.MATCHED, 1); // the normal payment
    assert.deepEqual(
      report.actions.map((a) => [a.kind, a.outTradeNo, a.result, a.status]),
      [['START_PAYMENT', lost.outTradeNo, 'APPLIED', 'PAID']],
    );
    const state = await payment(lost.outTradeNo);
    assert.equal(state.status, 'PAID');
    assert.equal(state.paid, '12.00');
    assert.equal(state.tradeNo, lost.tradeNo);
    const found = state.timeline.find((e) => e.event === 'FOUND_BY_RECONCILIATION');
    assert.match(
      found?.detail ?? '',
      new RegExp(`_transaction_${day.replace(/-/g, '')}\\.csv line \\d+`),
    );
    assert.equal((await payment(normal)).status, 'PAID');
    await recordLatestRun('recovered');
  });

  it('refunds forced UNKNOWN are settled from the file: the one Alipay made SUCCEEDED, the other FAILED', async () => {
    const made = await paidThroughNotification('20.00');
    const notMade = await paidThroughNotification('21.00');
    // Alipay refunds, but answers a code nobody knows: the outcome is UNKNOWN.
    stack.sandbox.faults.add({ service: 'REFUND', kind: 'fail', error: 'ODD_CODE', apply: true });
    let res = await stack.api(
      'POST',
      `/v1/payments/${made}/refunds`,
      { amount: '2.50' },
      { 'Idempotency-Key': 'RF-MADE' },
    );
    assert.equal(res.status, 202, JSON.stringify(res.json));
    // The same answer, but Alipay did nothing.
    stack.sandbox.faults.add({ service: 'REFUND', kind: 'fail', error: 'ODD_CODE' });
    res = await stack.api(
      'POST',
      `/v1/payments/${notMade}/refunds`,
      { amount: '3.00' },
      { 'Idempotency-Key': 'RF-NOT-MADE' },
    );
    assert.equal(res.status, 202, JSON.stringify(res.json));
    for (const ot of [made, notMade])
      assert.equal((await payment(ot)).status, 'FAILED_NEEDS_OPERATOR');

    const report = await reconcile();
    assert.equal(report.status, 'RECONCILED');
    assert.deepEqual(kinds(report), []);
    assert.equal(report.counts.SETTLED, 1); // the REFUND row
    assert.deepEqual(
      report.actions.map((a) => [a.kind, a.outTradeNo, a.result, a.status]).sort(),
      [
        ['SETTLE', made, 'APPLIED', 'PARTIALLY_REFUNDED'],
        ['SETTLE', notMade, 'APPLIED', 'PAID'],
      ].sort(),
    );
    const settled = await payment(made);
    assert.equal(settled.refunds[0]!.status, 'SUCCEEDED');
    assert.equal(settled.refunded, '2.50');
    const note = settled.timeline.find((e) => e.event === 'OPERATOR_RESOLVED')?.detail ?? '';
    assert.match(note, /reconciliation file \d+_transaction_\d{8}\.csv: line \d+: REFUND/);
    const failed = await payment(notMade);
    assert.equal(failed.refunds[0]!.status, 'FAILED');
    assert.equal(failed.refundable, '21.00');
    await recordLatestRun('settled');
  });

  it('a FAILED_NEEDS_OPERATOR payment whose CANCEL went through is resolved', async () => {
    const ot = await paidThroughNotification('30.00');
    // CANCEL goes through with an unknown answer, and the QUERY after it cannot tell either.
    stack.sandbox.faults.add({ service: 'CANCEL', kind: 'fail', error: 'ODD_CODE', apply: true });
    stack.sandbox.faults.add({ service: 'QUERY', kind: 'fail', error: 'ODD_CODE' });
    const res = await stack.api('POST', `/v1/payments/${ot}/cancel`, {});
    assert.equal(res.status, 502, JSON.stringify(res.json));
    const before = await payment(ot);
    assert.equal(before.status, 'FAILED_NEEDS_OPERATOR');
    assert.equal(before.reversal?.outcome, 'UNKNOWN');

    const report = await reconcile();
    assert.deepEqual(kinds(report), []);
    assert.deepEqual(
      report.actions.map((a) => [a.kind, a.outTradeNo, a.result, a.status]),
      [['SETTLE', ot, 'APPLIED', 'CANCELLED']],
    );
    const after = await payment(ot);
    assert.equal(after.status, 'CANCELLED');
    assert.equal(after.reversal?.method, 'CANCEL');
    assert.match(after.reversal?.detail ?? '', /line \d+: CANCEL/);
  });

  it('a tampered row is a discrepancy and changes nothing', async () => {
    const ot = await paidThroughNotification('40.00');
    const before = await payment(ot);
    stack.sandbox.recon.addFault(day, { kind: 'tamper', outTradeNo: ot });
    try {
      const report = await reconcile();
      assert.equal(report.status, 'RECONCILED');
      assert.deepEqual(report.actions, []);
      const amount = report.discrepancies.filter((d) => d.kind === 'AMOUNT_MISMATCH');
      assert.equal(amount.length, 1);
      assert.equal(amount[0]!.outTradeNo, ot);
      assert.match(amount[0]!.detail, /file 41\.00 USD, engine 40\.00 USD/);
      // The settlement file still says 40.00: the two files disagree, which is listed too.
      assert.ok(kinds(report).includes('SETTLEMENT_MISMATCH'));
      assert.equal(report.counts.DISCREPANCY, 1);
      assert.deepEqual(await payment(ot), before);
    } finally {
      stack.sandbox.recon.clearFaults(day);
    }
  });

  it('a malformed file is refused with a clear error and changes nothing', async () => {
    stack.sandbox.faults.add({ service: 'notification', kind: 'drop' });
    const lost = stack.sandbox.pay({ qrcode, amount: '7.00' }).trade;
    stack.sandbox.recon.addFault(day, { kind: 'truncated', file: 'transaction' });
    try {
      const report = await reconcile();
      assert.equal(report.status, 'FILE_REFUSED');
      assert.match(
        report.error ?? '',
        /_transaction_\d{8}\.csv: the file does not end with a line break: truncated/,
      );
      assert.deepEqual(report.actions, []);
      assert.equal((await stack.api('GET', `/v1/payments/${lost.outTradeNo}`)).status, 404);
    } finally {
      stack.sandbox.recon.clearFaults(day);
    }
    // With a whole file the same payment is found.
    const again = await reconcile();
    assert.deepEqual(
      again.actions.map((a) => [a.outTradeNo, a.status]),
      [[lost.outTradeNo, 'PAID']],
    );
  });

  it('running the same day twice changes nothing the second time', async () => {
    const first = await reconcile();
    const before = await stack.engine.listStorePayments(STORE, { pageSize: 100 });
    const states = await Promise.all(before.payments.map((p) => payment(p.outTradeNo)));
    const second = await reconcile();
    assert.equal(second.status, 'RECONCILED');
    assert.deepEqual(second.actions, []);
    assert.equal(second.counts.RECOVERED + second.counts.SETTLED, 0);
    assert.deepEqual(second.counts, first.counts);
    assert.deepEqual(second.discrepancies, first.discrepancies);
    assert.deepEqual(kinds(second), []);
    assert.equal(second.counts.MATCHED, second.files!.records);
    const after = await Promise.all(states.map((s) => payment(s.outTradeNo)));
    assert.deepEqual(after, states);
  });

  it('GET answers the latest report; metrics count runs and discrepancies', async () => {
    const got = await stack.api('GET', `/v1/reconciliation/${day}`);
    assert.equal(got.status, 200);
    assert.equal(got.json.status, 'RECONCILED');
    assert.equal((await stack.api('GET', '/v1/reconciliation/2001-01-01')).status, 404);
    assert.equal((await stack.api('GET', '/v1/reconciliation/2026-02-30')).status, 400);
    const metrics = await (await fetch(`${stack.http.adminUrl}/metrics`)).text();
    assert.match(metrics, /alipay_reconciliation_runs_total\{status="RECONCILED"\} [1-9]/);
    assert.match(metrics, /alipay_reconciliation_runs_total\{status="FILE_REFUSED"\} 1/);
    assert.match(
      metrics,
      /alipay_reconciliation_discrepancies_found_total\{kind="AMOUNT_MISMATCH"\} 1/,
    );
    assert.match(
      metrics,
      /alipay_reconciliation_actions_total\{kind="START_PAYMENT",result="APPLIED"\} 2/,
    );
    assert.match(metrics, /# TYPE alipay_reconciliation_discrepancies gauge/);
  });

  it('the worker created the daily Schedule (10:00 GMT+8 = 02:00 UTC)', async () => {
    const schedule = await stack.engine.temporal.schedule
      .getHandle(reconciliationScheduleId(stack.config.alipay.gateway.partner))
      .describe();
    assert.equal(schedule.action.type, 'startWorkflow');
    assert.equal(schedule.action.workflowType, 'DailyReconciliationWorkflow');
    assert.deepEqual(schedule.spec.calendars?.[0]?.hour, [{ start: 2, end: 2, step: 1 }]);
  });
});
