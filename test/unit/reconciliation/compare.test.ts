import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TransactionRecord } from '../../../src/alipay/reconciliation-file';
import { compareDay, type CompareInput } from '../../../src/reconciliation/compare';
import { parseGmt8 } from '../../../src/time';
import type { PaymentState, RefundEntry } from '../../../src/workflows/payment-types';

// The comparison rules, pure: what becomes an action, what a discrepancy, and what waits.
const START = parseGmt8('2026-11-30 00:00:00');
const END = START + 86_400_000;
const at = (hhmm: string) => parseGmt8(`2026-11-30 ${hhmm}:00`);

function payment(outTradeNo: string, extra: Partial<PaymentState> = {}): PaymentState {
  return {
    status: 'PAID',
    partnerId: 'P',
    outTradeNo,
    tradeNo: `T${outTradeNo}`,
    currency: 'USD',
    paidMinor: 1000,
    refundedMinor: 0,
    reservedMinor: 0,
    refundableMinor: 1000,
    paidAt: at('10:00'),
    refunds: [],
    timeline: [],
    notifyIds: [],
    continuedRuns: 0,
    ...extra,
  };
}

function refund(refundId: string, extra: Partial<RefundEntry> = {}): RefundEntry {
  return {
    refundId,
    amountMinor: 250,
    amount: '2.50',
    currency: 'USD',
    status: 'SUCCEEDED',
    requestedAt: at('11:00'),
    finishedAt: at('11:00'),
    ...extra,
  };
}

let line = 3;
function row(
  type: TransactionRecord['type'],
  reference: string,
  tradeNo: string,
  amountMinor: number,
  time = '10:00',
): TransactionRecord {
  line += 1;
  return {
    line,
    type,
    reference,
    tradeNo,
    amountMinor,
    currency: 'USD',
    feeMinor: 0,
    at: at(time),
  };
}

function compare(
  transactions: TransactionRecord[],
  payments: PaymentState[],
  extra: Partial<CompareInput> = {},
) {
  return compareDay({
    partnerId: 'P',
    dayStart: START,
    dayEnd: END,
    asOf: END + 3_600_000,
    graceMs: 15 * 60_000,
    transactionFile: 'tx.csv',
    settlementFile: 'st.csv',
    transactions,
    // Settlement mirrors the transactions here; its own checks are covered by the server test.
    settlements: transactions.map((r) => ({
      line: r.line,
      kind: r.type === 'PAYMENT' ? 'PAYMENT' : 'REFUND',
      reference: r.type === 'PAYMENT' || r.type === 'REFUND' ? r.reference : r.tradeNo,
      tradeNo: r.tradeNo,
      amountMinor: r.amountMinor,
      feeMinor: 0,
      settlementMinor: r.amountMinor,
      currency: 'USD',
      at: r.at,
      settledAt: END,
      status: 'L',
    })),
    payments: new Map(payments.map((p) => [p.outTradeNo, p])),
    ...extra,
  });
}

describe('compareDay', () => {
  it('matches REFUND rows on gatewayRefundId, and on the refund ID for older entries', () => {
    const p = payment('A', {
      refunds: [
        refund('R-new', { gatewayRefundId: 'G-abc' }),
        refund('R-old', { amountMinor: 100, amount: '1.00' }),
      ],
    });
    const c = compare(
      [
        row('PAYMENT', 'A', 'TA', 1000),
        row('REFUND', 'G-abc', 'TA', 250, '11:00'),
        row('REFUND', 'R-old', 'TA', 100, '11:00'),
      ],
      [p],
    );
    assert.deepEqual(c.discrepancies, []);
    assert.deepEqual(Object.values(c.outcomes), ['MATCHED', 'MATCHED', 'MATCHED']);
  });

  it('lists a refund made outside the engine and a payment of another system, changes nothing', () => {
    const c = compare(
      [
        row('PAYMENT', 'A', 'TA', 1000),
        row('REFUND', 'PORTAL-1', 'TA', 300, '12:00'),
        row('REFUND', 'X-1', 'T-OTHER', 300, '12:00'),
      ],
      [payment('A')],
    );
    assert.deepEqual(c.actions, []);
    assert.deepEqual(
      c.discrepancies.map((d) => d.kind),
      ['UNKNOWN_TO_ENGINE', 'UNKNOWN_TO_ENGINE'],
    );
  });

  it('an engine movement absent from the file is a discrepancy only after the grace period', () => {
    const early = payment('E', { paidAt: at('09:00') });
    const late = payment('L', { paidAt: at('23:50') });
    const c = compare([], [early, late], { asOf: END + 60_000 });
    assert.deepEqual(
      c.discrepancies.map((d) => [d.kind, d.outTradeNo]),
      [['MISSING_FROM_FILE', 'E']],
    );
    // A day still running: the cut-off is now minus the grace period.
    const today = compare([], [early], { asOf: at('09:10') });
    assert.deepEqual(today.discrepancies, []);
  });

  it('an UNKNOWN refund absent from the file is FAILED, one in it SUCCEEDED, in one Update', () => {
    const p = payment('F', {
      status: 'FAILED_NEEDS_OPERATOR',
      operatorReason: 'REFUND unknown',
      refunds: [
        refund('R-in', { status: 'UNKNOWN' }),
        refund('R-out', { status: 'UNKNOWN', amountMinor: 100, amount: '1.00' }),
      ],
    });
    const c = compare(
      [row('PAYMENT', 'F', 'TF', 1000), row('REFUND', 'R-in', 'TF', 250, '11:00')],
      [p],
    );
    assert.equal(c.actions.length, 1);
    const action = c.actions[0]!;
    assert.equal(action.kind, 'SETTLE');
    if (action.kind !== 'SETTLE') return;
    assert.deepEqual(action.resolution.refundOutcomes, { 'R-in': 'SUCCEEDED', 'R-out': 'FAILED' });
    assert.equal(action.resolution.outcome, 'NOT_REVERSED');
    assert.match(
      action.resolution.note,
      /tx\.csv: line \d+: REFUND R-in 2\.50 USD; REFUND R-out not in the file/,
    );
  });

  it('a reversal with no CANCEL in the file is left to an operator, not called off', () => {
    const p = payment('V', {
      status: 'FAILED_NEEDS_OPERATOR',
      operatorReason: 'CANCEL unknown',
      reversal: { reason: 'merchant cancel', outcome: 'UNKNOWN' },
    });
    const c = compare([row('PAYMENT', 'V', 'TV', 1000)], [p]);
    assert.deepEqual(c.actions, []);
    assert.deepEqual(
      c.discrepancies.map((d) => d.kind),
      ['NEEDS_OPERATOR'],
    );
  });

  it('an UNKNOWN refund within the grace period waits', () => {
    const p = payment('G', {
      status: 'FAILED_NEEDS_OPERATOR',
      refunds: [refund('R-late', { status: 'UNKNOWN', requestedAt: at('23:55') })],
    });
    const c = compare([row('PAYMENT', 'G', 'TG', 1000)], [p], { asOf: END + 60_000 });
    assert.deepEqual(c.actions, []);
    assert.match(c.discrepancies[0]!.detail, /refund R-late \(requested within the grace period\)/);
  });

  it('a cancel at Alipay of a payment the engine has PAID is a status discrepancy', () => {
    const c = compare(
      [row('PAYMENT', 'C', 'TC', 1000), row('CANCEL', 'C', 'TC', 1000, '10:30')],
      [payment('C')],
    );
    assert.deepEqual(c.actions, []);
    assert.deepEqual(
      c.discrepancies.map((d) => d.kind),
      ['STATUS_MISMATCH'],
    );
  });
});
