import type { Sandbox } from '../../src/sandbox';
import type { PaymentState, RefundEntry } from '../../src/workflows/payment-types';

/**
 * The engine's ledger of one payment against Alipay's (the sandbox's) books. The sandbox is the
 * truth about money: what it refunded happened, whatever the engine believes.
 */
export interface LedgerComparison {
  /** Human-readable differences; empty when the two books agree. */
  problems: string[];
  /** Refunded more than paid, at Alipay or in the engine's books (refunded + reserved). */
  overRefund: boolean;
  /** Refunds at Alipay that no engine entry accounts for, or one entry executed twice. */
  doubleRefunds: number;
  /** Engine entries still UNKNOWN (an operator settles them; not a disagreement). */
  unknown: number;
  /** Entries the engine holds SUCCEEDED that Alipay did not execute (or for another amount). */
  phantomSuccesses: number;
}

/** The `partner_refund_id` the engine sent for an entry (issue 11: a derived ID; before it, the refund ID). */
export function gatewayRefundId(entry: RefundEntry): string {
  return entry.gatewayRefundId ?? entry.refundId;
}

export function compareLedger(state: PaymentState, sandbox: Sandbox): LedgerComparison {
  const problems: string[] = [];
  const trade = sandbox.state.findTrade(state.outTradeNo);
  if (!trade)
    return {
      problems: ['no such trade at Alipay'],
      overRefund: false,
      doubleRefunds: 0,
      unknown: 0,
      phantomSuccesses: 0,
    };
  const atAlipay = sandbox.state
    .refunds()
    .filter((r) => r['partner_trans_id'] === state.outTradeNo && r['partner'] === trade.partner);
  const byId = new Map<string, Record<string, unknown>[]>();
  for (const r of atAlipay) {
    const id = String(r['partner_refund_id']);
    byId.set(id, [...(byId.get(id) ?? []), r]);
  }
  let doubleRefunds = 0;
  let unknown = 0;
  let phantomSuccesses = 0;
  const accounted = new Set<string>();
  for (const entry of state.refunds) {
    const id = gatewayRefundId(entry);
    const found = byId.get(id) ?? [];
    accounted.add(id);
    if (found.length > 1) {
      doubleRefunds += found.length - 1;
      problems.push(`refund ${entry.refundId} executed ${found.length} times at Alipay`);
    }
    const minor = found[0]?.['refund_amount_minor'];
    if (entry.status === 'SUCCEEDED') {
      if (found.length === 0 || minor !== entry.amountMinor) {
        phantomSuccesses += 1;
        problems.push(
          found.length === 0
            ? `refund ${entry.refundId} SUCCEEDED but Alipay has no ${id}`
            : `refund ${entry.refundId}: engine ${entry.amountMinor}, Alipay ${String(minor)}`,
        );
      }
    } else if (entry.status === 'FAILED') {
      if (found.length > 0)
        problems.push(`refund ${entry.refundId} FAILED but Alipay refunded ${String(minor)}`);
    } else {
      unknown += 1;
      if (found.length > 0 && minor !== entry.amountMinor)
        problems.push(
          `refund ${entry.refundId} (${entry.status}): engine ${entry.amountMinor}, Alipay ${String(minor)}`,
        );
    }
  }
  for (const [id, rows] of byId) {
    if (accounted.has(id)) continue;
    doubleRefunds += rows.length;
    problems.push(
      `Alipay refunded ${id} (${String(rows[0]?.['refund_amount'])}), unknown to the engine`,
    );
  }
  const succeeded = state.refunds
    .filter((r) => r.status === 'SUCCEEDED')
    .reduce((sum, r) => sum + r.amountMinor, 0);
  if (state.refundedMinor !== succeeded)
    problems.push(`refundedMinor ${state.refundedMinor} != sum of SUCCEEDED entries ${succeeded}`);
  if (unknown === 0 && trade.refunded_minor !== state.refundedMinor)
    problems.push(`refunded: engine ${state.refundedMinor}, Alipay ${trade.refunded_minor}`);
  if (state.paidMinor > 0 && state.paidMinor !== trade.amount_minor)
    problems.push(`paid: engine ${state.paidMinor}, Alipay ${trade.amount_minor}`);
  if (state.status === 'CANCELLED' && trade.closed_by !== 'CANCEL')
    problems.push(
      `CANCELLED in the engine, Alipay trade ${trade.trade_status} (${String(trade.closed_by)})`,
    );
  if (
    trade.closed_by === 'CANCEL' &&
    state.status !== 'CANCELLED' &&
    state.status !== 'FAILED_NEEDS_OPERATOR'
  )
    problems.push(`cancelled at Alipay, ${state.status} in the engine`);
  const overRefund =
    trade.refunded_minor > trade.amount_minor ||
    state.refundedMinor + state.reservedMinor > state.paidMinor;
  if (overRefund)
    problems.push(
      `over-refund: Alipay ${trade.refunded_minor}/${trade.amount_minor}, engine ${state.refundedMinor}+${state.reservedMinor}/${state.paidMinor}`,
    );
  return { problems, overRefund, doubleRefunds, unknown, phantomSuccesses };
}
