import { ApplicationFailure, patched, uuid4 } from '@temporalio/workflow';
import type { MerchantEvent, PaymentRef } from '../activities/payment';
import { refuseIfInvalid, type PaymentBook } from './payment-book';
import {
  cancelBeforeMidnight,
  refundPayment,
  tradeIsClosed,
  type CallTimeouts,
} from './payment-calls';
import { PAYMENT_UPDATE_FAILED, type OperatorResolution, type PaymentState } from './payment-types';

/** Patch: a merchant CANCEL whose outcome nobody knows needs an operator (it went back to PAID). */
const MERCHANT_CANCEL_UNKNOWN_PATCH = 'merchant-cancel-unknown-needs-operator';

/** What the reversal chapter borrows from its PaymentWorkflow run. */
export interface ReversalDeps {
  book: PaymentBook;
  /** The trade as the gateway calls know it (its `tradeNo` once confirmed). */
  ref: () => PaymentRef;
  /** Brings search attributes and current details in step with the book. */
  publish: (book: PaymentBook) => void;
  /** Builds a merchant event from the book's current state. */
  event: (
    type: MerchantEvent['type'],
    minor: number,
    extra?: Partial<MerchantEvent>,
  ) => MerchantEvent;
  /** Tells the merchant after the fact; a failing hook is only recorded. */
  tellMerchant: (e: MerchantEvent) => Promise<void>;
  /** Activity timeouts of this run. */
  timeouts: CallTimeouts;
}

/** The reversal chapter of one PaymentWorkflow run, built by {@link paymentReversal}. */
export interface PaymentReversal {
  /** Step 4: CANCEL while the transaction day lasts, full REFUND after; never silent. */
  reverse(reason: string): Promise<void>;
  /** Step 6: the merchant's CANCEL (run it one at a time with the refunds). */
  merchantCancel(reason?: string): Promise<PaymentState>;
  /** A money-moving outcome nobody knows: FAILED_NEEDS_OPERATOR, with the reversal marked UNKNOWN. */
  operatorNeeded(why: string): void;
  /** The way out of FAILED_NEEDS_OPERATOR: what an operator found at Alipay (run it one at a time). */
  resolveByOperator(req: OperatorResolution): PaymentState;
}

/**
 * Undoing a payment: the automatic reversal of a payment that went wrong (CANCEL on its GMT+8
 * day, a full REFUND after) and the merchant's own CANCEL. Workflow code: the order of its
 * calls, timers and `patched()` checks is part of recorded histories, so keep it as it is.
 */
export function paymentReversal({
  book,
  ref,
  publish,
  event,
  tellMerchant,
  timeouts,
}: ReversalDeps): PaymentReversal {
  return { reverse, merchantCancel, operatorNeeded, resolveByOperator };

  async function reverse(reason: string): Promise<void> {
    book.state.reversal = { reason, outcome: 'PENDING' };
    book.moveTo('REVERSING', reason);
    publish(book);

    if (book.canCancelNow()) {
      const cancel = await cancelBeforeMidnight(
        ref(),
        book.state.cancelDeadline as number,
        timeouts,
      );
      if (cancel.status === 'CANCELLED')
        return reversed('CANCEL', cancel.action ? `action=${cancel.action}` : undefined);
      book.record('CANCEL_NOT_DONE', cancel.failure);
    }
    const amountMinor = book.state.paidMinor - book.state.refundedMinor - book.state.reservedMinor;
    if (amountMinor <= 0)
      return operatorNeeded(
        book.state.paidMinor > 0
          ? 'the balance is reserved by refunds in flight'
          : 'the paid amount is unknown: nothing to refund by',
      );
    const entry = book.reserveRefund(
      { refundId: `RV-${uuid4()}`, amount: '', reason: `reversal: ${reason}`.slice(0, 128) },
      amountMinor,
      true,
    );
    // A reversal's ID is a fresh UUID: unique at Alipay as it is.
    entry.gatewayRefundId = entry.refundId;
    publish(book);
    const outcome = await refundPayment(ref(), entry, timeouts);
    book.settleRefund(entry, outcome.status, 'failure' in outcome ? outcome.failure : undefined);
    if (outcome.status === 'SUCCEEDED') return reversed('REFUND');
    // A CANCEL in flight at midnight may have gone through after all: then REFUND is refused.
    if (outcome.status === 'FAILED' && (await tradeIsClosed(ref(), timeouts)))
      return reversed('CANCEL', 'confirmed by QUERY after REFUND was refused');
    return operatorNeeded(`automatic REFUND ${outcome.status}: ${outcome.failure}`);
  }

  async function reversed(method: 'CANCEL' | 'REFUND', detail?: string): Promise<void> {
    book.state.reversal = {
      ...book.state.reversal!,
      method,
      outcome: 'DONE',
      ...(detail ? { detail } : {}),
    };
    if (method === 'CANCEL') book.state.lastRefundAt = Date.now();
    book.moveTo(method === 'CANCEL' ? 'CANCELLED' : 'REFUNDED', detail);
    publish(book);
    await tellMerchant(
      event('payment.reversed', book.state.paidMinor, {
        method,
        reason: book.state.reversal.reason,
      }),
    );
  }

  function operatorNeeded(why: string): void {
    if (book.state.reversal)
      book.state.reversal = { ...book.state.reversal, outcome: 'UNKNOWN', detail: why };
    book.needsOperator(why);
    publish(book);
  }

  // The validator checked the day; it is checked again here, when the Update's turn comes.
  async function merchantCancel(reason?: string): Promise<PaymentState> {
    refuseIfInvalid(() => book.checkCancel());
    book.state.reversal = {
      reason: reason ? `merchant cancel: ${reason}` : 'merchant cancel',
      outcome: 'PENDING',
    };
    book.moveTo('REVERSING', book.state.reversal.reason);
    publish(book);
    const cancel = await cancelBeforeMidnight(ref(), book.state.cancelDeadline as number, timeouts);
    if (cancel.status === 'CANCELLED') {
      await reversed('CANCEL', cancel.action ? `action=${cancel.action}` : undefined);
      return book.state;
    }
    const closed = cancel.status === 'REFUSED' ? false : await tradeIsClosed(ref(), timeouts);
    if (closed) {
      await reversed('CANCEL', 'confirmed by QUERY');
      return book.state;
    }
    // The CANCEL may have gone through and QUERY cannot tell: not PAID, an operator decides.
    // Versioned: runs recorded before it went back to PAID here.
    if (closed === undefined && patched(MERCHANT_CANCEL_UNKNOWN_PATCH)) {
      operatorNeeded(`CANCEL ${cancel.status} and QUERY inconclusive: ${cancel.failure}`);
      throw ApplicationFailure.create({
        type: PAYMENT_UPDATE_FAILED,
        nonRetryable: true,
        message: `CANCEL outcome unknown, an operator must check: ${cancel.failure}`,
      });
    }
    book.state.reversal = { ...book.state.reversal, outcome: 'NOT_NEEDED', detail: cancel.failure };
    book.moveTo('PAID', `cancel failed: ${cancel.failure}`);
    publish(book);
    throw ApplicationFailure.create({
      type: PAYMENT_UPDATE_FAILED,
      nonRetryable: true,
      message: `CANCEL failed: ${cancel.failure}`,
    });
  }

  // Only reached through the resolveByOperator Update (which no recorded history holds): it calls
  // nothing and waits for nothing, so the recorded paths are unchanged.
  function resolveByOperator(req: OperatorResolution): PaymentState {
    // The validator checked; a refund queued before this Update may have changed the ledger since.
    refuseIfInvalid(() => book.checkResolution(req));
    const note = req.note.trim();
    const told = req.refundOutcomes ?? {};
    for (const entry of book.state.refunds) {
      const outcome = entry.status === 'UNKNOWN' ? told[entry.refundId] : undefined;
      if (!outcome) continue;
      const was = entry.failure;
      delete entry.failure;
      book.settleRefund(
        entry,
        outcome,
        outcome === 'FAILED' ? `operator: ${note}${was ? ` (was ${was})` : ''}` : undefined,
      );
    }
    book.record('OPERATOR_RESOLVED', `${req.outcome}: ${note}`);
    delete book.state.operatorReason;
    const reversal = book.state.reversal;
    if (reversal && book.reversalOpen) {
      if (req.outcome === 'REVERSED') {
        const refunded = book.state.refunds.some((r) => r.reversal && r.status === 'SUCCEEDED');
        const method = refunded ? 'REFUND' : 'CANCEL';
        book.state.reversal = { ...reversal, method, outcome: 'DONE', detail: `operator: ${note}` };
        if (method === 'CANCEL') book.state.lastRefundAt = Date.now();
        book.moveTo(refunded ? 'REFUNDED' : 'CANCELLED', `resolved by operator: ${note}`);
      } else {
        book.state.reversal = {
          ...reversal,
          outcome: 'NOT_NEEDED',
          detail: `operator: not reversed: ${note}`,
        };
        book.moveTo(book.refundedStatus(), `resolved by operator: ${note}`);
      }
    } else {
      book.moveTo(book.refundedStatus(), `resolved by operator: ${note}`);
    }
    publish(book);
    return book.state;
  }
}
