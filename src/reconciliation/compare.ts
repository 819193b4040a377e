import type { SettlementRecord, TransactionRecord } from '../alipay/reconciliation-file';
import { formatMinor } from '../money';
import type { PaymentState, RefundEntry } from '../workflows/payment-types';
import { paymentWorkflowId } from '../workflows/payment-types';
import type {
  CurrencyTotals,
  DayComparison,
  Discrepancy,
  FileMovement,
  ReconciliationAction,
  RecordOutcome,
} from '../workflows/reconciliation-types';

/**
 * The heart of reconciliation, pure: a day's file records against the engine's payments.
 * Records the engine does not know as a payment become "start it" actions; UNKNOWN outcomes
 * the file decides become "settle it" actions; everything else that disagrees is a
 * discrepancy, never an action. Running it again after the actions finds nothing to do.
 */

/** What the comparison needs to know about the day and the engine. */
export interface CompareInput {
  partnerId: string;
  /** GMT+8 day bounds, epoch ms (end exclusive). */
  dayStart: number;
  dayEnd: number;
  /** Now (engine clock), for the grace period. */
  asOf: number;
  graceMs: number;
  transactionFile: string;
  settlementFile: string;
  transactions: readonly TransactionRecord[];
  settlements: readonly SettlementRecord[];
  /** The engine's payments: by out_trade_no, every one looked at (the records' and the day's). */
  payments: ReadonlyMap<string, PaymentState>;
}

/**
 * The ID the engine sent Alipay as `partner_refund_id` for a ledger entry: `gatewayRefundId`
 * when the entry has one, the refund ID for entries made before it existed.
 */
export function gatewayRefundIdOf(entry: RefundEntry): string {
  return entry.gatewayRefundId ?? entry.refundId;
}

/** The record in workflow terms. */
export function fileMovement(file: string, r: TransactionRecord): FileMovement {
  return {
    file,
    line: r.line,
    type: r.type,
    reference: r.reference,
    tradeNo: r.tradeNo,
    amountMinor: r.amountMinor,
    amount: formatMinor(r.amountMinor, r.currency),
    currency: r.currency,
    at: r.at,
    ...(r.storeId ? { storeId: r.storeId } : {}),
  };
}

export function compareDay(input: CompareInput): DayComparison {
  const { transactionFile: file, payments } = input;
  const outcomes: Record<number, RecordOutcome> = {};
  const discrepancies: Discrepancy[] = [];
  const actions: ReconciliationAction[] = [];
  const byTradeNo = new Map<string, PaymentState>();
  for (const p of payments.values()) if (p.tradeNo) byTradeNo.set(p.tradeNo, p);
  const workflowId = (outTradeNo: string) => paymentWorkflowId(input.partnerId, outTradeNo);
  const money = (minor: number, currency: string) => `${formatMinor(minor, currency)} ${currency}`;
  const differ = (
    r: TransactionRecord,
    p: PaymentState,
    kind: Discrepancy['kind'],
    detail: string,
  ): void => {
    outcomes[r.line] = 'DISCREPANCY';
    discrepancies.push({
      kind,
      file,
      line: r.line,
      reference: r.reference,
      outTradeNo: p.outTradeNo,
      workflowId: workflowId(p.outTradeNo),
      detail,
    });
  };
  /** Same money? Amounts are only comparable in the same currency. */
  const sameMoney = (r: TransactionRecord, p: PaymentState, minor: number): boolean => {
    if (p.currency !== r.currency) {
      differ(
        r,
        p,
        'CURRENCY_MISMATCH',
        `file ${money(r.amountMinor, r.currency)}, engine ${p.currency ?? 'no currency'}`,
      );
      return false;
    }
    if (minor !== r.amountMinor) {
      differ(
        r,
        p,
        'AMOUNT_MISMATCH',
        `${r.type} ${r.reference}: file ${money(r.amountMinor, r.currency)}, engine ${money(minor, r.currency)}`,
      );
      return false;
    }
    return true;
  };
  const unknownToEngine = (r: TransactionRecord, detail: string): void => {
    outcomes[r.line] = 'DISCREPANCY';
    discrepancies.push({
      kind: 'UNKNOWN_TO_ENGINE',
      file,
      line: r.line,
      reference: r.reference,
      detail,
    });
  };

  // What the file says about each FAILED_NEEDS_OPERATOR payment, gathered before deciding.
  const evidence = new Map<
    string,
    { refunds: Map<string, TransactionRecord>; cancel?: TransactionRecord }
  >();
  const evidenceOf = (p: PaymentState) => {
    let e = evidence.get(p.outTradeNo);
    if (!e) evidence.set(p.outTradeNo, (e = { refunds: new Map() }));
    return e;
  };

  for (const r of input.transactions) {
    if (r.type === 'PAYMENT') {
      const p = payments.get(r.reference) ?? byTradeNo.get(r.tradeNo);
      if (!p || p.status === 'AWAITING_NOTIFICATION') {
        outcomes[r.line] = 'RECOVERED';
        actions.push({
          kind: 'START_PAYMENT',
          workflowId: workflowId(r.reference),
          outTradeNo: r.reference,
          record: fileMovement(file, r),
        });
      } else if (p.status === 'CONFIRMING') {
        outcomes[r.line] = 'IN_PROGRESS';
      } else if (p.paidMinor === 0) {
        differ(
          r,
          p,
          'STATUS_MISMATCH',
          `Alipay took ${money(r.amountMinor, r.currency)}, the engine has the payment ${p.status} with nothing paid`,
        );
      } else if (p.tradeNo && p.tradeNo !== r.tradeNo) {
        differ(r, p, 'STATUS_MISMATCH', `trade_no: file ${r.tradeNo}, engine ${p.tradeNo}`);
      } else if (sameMoney(r, p, p.paidMinor)) {
        outcomes[r.line] = 'MATCHED';
      }
    } else if (r.type === 'REFUND') {
      const p = byTradeNo.get(r.tradeNo);
      const entry = p?.refunds.find((e) => gatewayRefundIdOf(e) === r.reference);
      if (!p)
        unknownToEngine(
          r,
          `refund ${r.reference} of trade ${r.tradeNo}, which the engine does not have as a payment`,
        );
      else if (!entry)
        differ(
          r,
          p,
          'UNKNOWN_TO_ENGINE',
          `refund ${r.reference} ${money(r.amountMinor, r.currency)} is not in the engine's ledger (made elsewhere?)`,
        );
      else if (!sameMoney(r, p, entry.amountMinor)) {
        // listed by sameMoney
      } else if (entry.status === 'SUCCEEDED') outcomes[r.line] = 'MATCHED';
      else if (entry.status === 'PENDING') outcomes[r.line] = 'IN_PROGRESS';
      else if (entry.status === 'FAILED')
        differ(
          r,
          p,
          'STATUS_MISMATCH',
          `refund ${entry.refundId} is FAILED in the engine, Alipay refunded ${money(r.amountMinor, r.currency)}`,
        );
      else if (p.status === 'FAILED_NEEDS_OPERATOR') evidenceOf(p).refunds.set(r.reference, r);
      else outcomes[r.line] = 'IN_PROGRESS';
    } else {
      // CANCEL / REVERSAL: the whole trade was given back.
      const p = payments.get(r.reference) ?? byTradeNo.get(r.tradeNo);
      if (!p) unknownToEngine(r, `${r.type} of ${r.reference}, a payment the engine does not have`);
      else if (!sameMoney(r, p, p.paidMinor)) {
        // listed by sameMoney
      } else if (
        p.status === 'CANCELLED' ||
        (p.reversal?.outcome === 'DONE' && p.reversal.method === 'CANCEL')
      )
        outcomes[r.line] = 'MATCHED';
      else if (p.status === 'REVERSING') outcomes[r.line] = 'IN_PROGRESS';
      else if (
        p.status === 'FAILED_NEEDS_OPERATOR' &&
        (p.reversal?.outcome === 'UNKNOWN' || p.reversal?.outcome === 'PENDING')
      )
        evidenceOf(p).cancel = r;
      else
        differ(
          r,
          p,
          'STATUS_MISMATCH',
          `Alipay ${r.type === 'CANCEL' ? 'cancelled' : 'reversed'} the payment, the engine has it ${p.status}`,
        );
    }
  }

  // The engine's side of the day: payments needing an operator, and movements the file lacks.
  const cutoff = Math.min(input.dayEnd, input.asOf) - input.graceMs;
  const inDay = (t: number | undefined): t is number =>
    t !== undefined && t >= input.dayStart && t < input.dayEnd;
  const expected = (t: number | undefined) => inDay(t) && t < cutoff;
  const listed = {
    payment: new Set(
      input.transactions.filter((r) => r.type === 'PAYMENT').map((r) => r.reference),
    ),
    refund: new Set(input.transactions.filter((r) => r.type === 'REFUND').map((r) => r.reference)),
    cancel: new Set(
      input.transactions
        .filter((r) => r.type === 'CANCEL' || r.type === 'REVERSAL')
        .map((r) => r.reference),
    ),
  };
  for (const p of payments.values()) {
    const missing = (detail: string) =>
      discrepancies.push({
        kind: 'MISSING_FROM_FILE',
        outTradeNo: p.outTradeNo,
        workflowId: workflowId(p.outTradeNo),
        detail,
      });
    if (p.paidMinor > 0 && expected(p.paidAt) && !listed.payment.has(p.outTradeNo))
      missing(
        `payment ${p.outTradeNo} ${money(p.paidMinor, p.currency ?? '')} (${p.status}) is not in the transaction file`,
      );
    for (const e of p.refunds)
      if (
        e.status === 'SUCCEEDED' &&
        expected(e.finishedAt) &&
        !listed.refund.has(gatewayRefundIdOf(e))
      )
        missing(
          `refund ${e.refundId} ${money(e.amountMinor, e.currency)} SUCCEEDED in the engine, not in the transaction file`,
        );
    if (
      p.reversal?.outcome === 'DONE' &&
      p.reversal.method === 'CANCEL' &&
      p.paidMinor > 0 &&
      expected(p.lastRefundAt) &&
      !listed.cancel.has(p.outTradeNo)
    )
      missing(`CANCEL of ${p.outTradeNo} done in the engine, not in the transaction file`);

    if (p.status !== 'FAILED_NEEDS_OPERATOR') continue;
    const found = evidence.get(p.outTradeNo);
    const unknown = p.refunds.filter((e) => e.status === 'UNKNOWN');
    const reversalOpen = p.reversal?.outcome === 'UNKNOWN' || p.reversal?.outcome === 'PENDING';
    // Only payments this day's file can speak for: evidence in it, or an unknown call of the day.
    const ofThisDay =
      found !== undefined ||
      unknown.some((e) => inDay(e.requestedAt)) ||
      (reversalOpen && inDay(p.paidAt));
    if (!ofThisDay) continue;
    const refundOutcomes: Record<string, 'SUCCEEDED' | 'FAILED'> = {};
    const undecided: string[] = [];
    const lines: number[] = [];
    const notes: string[] = [];
    for (const e of unknown) {
      const row = found?.refunds.get(gatewayRefundIdOf(e));
      if (row) {
        refundOutcomes[e.refundId] = 'SUCCEEDED';
        lines.push(row.line);
        notes.push(
          `line ${row.line}: REFUND ${row.reference} ${money(row.amountMinor, row.currency)}`,
        );
      } else if (expected(e.requestedAt)) {
        // Alipay answers REFUND synchronously: a refund of the day absent from the day's
        // complete file did not happen.
        refundOutcomes[e.refundId] = 'FAILED';
        notes.push(`REFUND ${gatewayRefundIdOf(e)} not in the file`);
      } else
        undecided.push(
          `refund ${e.refundId} (requested ${inDay(e.requestedAt) ? 'within the grace period' : 'on another day'})`,
        );
    }
    let outcome: 'REVERSED' | 'NOT_REVERSED' = 'NOT_REVERSED';
    if (reversalOpen) {
      const reversedByRefund = unknown.some(
        (e) => e.reversal && refundOutcomes[e.refundId] === 'SUCCEEDED',
      );
      if (found?.cancel) {
        outcome = 'REVERSED';
        lines.push(found.cancel.line);
        notes.push(
          `line ${found.cancel.line}: ${found.cancel.type} ${found.cancel.reference} ${money(found.cancel.amountMinor, found.cancel.currency)}`,
        );
      } else if (reversedByRefund) outcome = 'REVERSED';
      // Absence of a CANCEL is not proof enough to call a reversal off: an operator decides.
      else undecided.push('the reversal (no CANCEL or reversal REFUND in the file)');
    }
    if (undecided.length > 0) {
      for (const line of lines) outcomes[line] = 'DISCREPANCY';
      discrepancies.push({
        kind: 'NEEDS_OPERATOR',
        outTradeNo: p.outTradeNo,
        workflowId: workflowId(p.outTradeNo),
        detail: `${p.operatorReason ?? 'needs an operator'}; the file does not decide: ${undecided.join(', ')}`,
      });
      continue;
    }
    for (const line of lines) outcomes[line] = 'SETTLED';
    actions.push({
      kind: 'SETTLE',
      workflowId: workflowId(p.outTradeNo),
      outTradeNo: p.outTradeNo,
      resolution: {
        outcome,
        note: `reconciliation file ${file}: ${notes.join('; ')}`,
        ...(Object.keys(refundOutcomes).length > 0 ? { refundOutcomes } : {}),
      },
      lines,
    });
  }
  // Evidence for a payment that is not (or no longer) waiting for an operator was decided above.
  for (const r of input.transactions) outcomes[r.line] ??= 'IN_PROGRESS';

  checkSettlement(input, discrepancies);
  return {
    transactionFile: file,
    settlementFile: input.settlementFile,
    records: input.transactions.length,
    outcomes,
    actions,
    discrepancies,
    totals: totalsOf(input.settlements),
    paymentsChecked: payments.size,
  };
}

/** The settlement file must list the transaction file's movements with the same amounts. */
function checkSettlement(input: CompareInput, out: Discrepancy[]): void {
  const file = input.settlementFile;
  const key = (kind: string, ref: string) => `${kind}\u0000${ref}`;
  const movements = new Map<string, TransactionRecord>();
  for (const r of input.transactions) {
    // §15: a cancelled trade's settlement row carries the Alipay ID as partner ID.
    if (r.type === 'PAYMENT') movements.set(key('PAYMENT', r.reference), r);
    else movements.set(key('REFUND', r.type === 'REFUND' ? r.reference : r.tradeNo), r);
  }
  for (const s of input.settlements) {
    const r = movements.get(key(s.kind, s.reference));
    if (!r) {
      out.push({
        kind: 'SETTLEMENT_MISMATCH',
        file,
        line: s.line,
        reference: s.reference,
        detail: `settled ${s.kind} ${s.reference} is not in the transaction file`,
      });
      continue;
    }
    movements.delete(key(s.kind, s.reference));
    if (r.amountMinor !== s.amountMinor || r.currency !== s.currency)
      out.push({
        kind: 'SETTLEMENT_MISMATCH',
        file,
        line: s.line,
        reference: s.reference,
        detail: `settlement ${formatMinor(s.amountMinor, s.currency)} ${s.currency}, transaction file line ${r.line} ${formatMinor(r.amountMinor, r.currency)} ${r.currency}`,
      });
  }
  for (const r of movements.values())
    out.push({
      kind: 'SETTLEMENT_MISMATCH',
      file: input.transactionFile,
      line: r.line,
      reference: r.reference,
      detail: `${r.type} ${r.reference} is not in the settlement file`,
    });
}

function totalsOf(settlements: readonly SettlementRecord[]): Record<string, CurrencyTotals> {
  const sums = new Map<
    string,
    { payments: number; refunds: number; fees: number; settlement: number }
  >();
  for (const s of settlements) {
    const t = sums.get(s.currency) ?? { payments: 0, refunds: 0, fees: 0, settlement: 0 };
    if (s.kind === 'PAYMENT') {
      t.payments += s.amountMinor;
      t.settlement += s.settlementMinor;
    } else {
      t.refunds += s.amountMinor;
      t.settlement -= s.settlementMinor;
    }
    t.fees += s.feeMinor;
    sums.set(s.currency, t);
  }
  return Object.fromEntries(
    [...sums].map(([currency, t]) => [
      currency,
      {
        payments: formatMinor(t.payments, currency),
        refunds: formatMinor(t.refunds, currency),
        fees: formatMinor(t.fees, currency),
        settlement:
          t.settlement < 0
            ? `-${formatMinor(-t.settlement, currency)}`
            : formatMinor(t.settlement, currency),
      },
    ]),
  );
}
