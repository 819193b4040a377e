import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  CancelRequest,
  OperatorResolution,
  PaymentNotification,
  PaymentState,
  RefundEntry,
  RefundRequest,
} from './payment-types';

/**
 * Every message of the PaymentWorkflow, defined once and imported by the workflow, the
 * notification receiver and the merchant client alike.
 */

/** A verified Alipay payment notification, forwarded by the receiver (signal-with-start). */
export const paymentNotifiedSignal = defineSignal<[PaymentNotification]>('paymentNotified');

/** Everything an operator needs: status, amounts, timeline. */
export const paymentStateQuery = defineQuery<PaymentState>('state');

/**
 * Refund part of the balance. Validated before it is accepted (amount, decimals, balance, window,
 * state, refund ID reuse); answers the ledger entry (a repeated refund ID answers the first one).
 */
export const refundPaymentUpdate = defineUpdate<RefundEntry, [RefundRequest]>('refund');

/** CANCEL the whole payment, on the GMT+8 day of the payment only; answers the state after it. */
export const cancelPaymentUpdate = defineUpdate<PaymentState, [CancelRequest]>('cancel');

/**
 * An operator's answer for a FAILED_NEEDS_OPERATOR payment, after checking Alipay: whether it was
 * reversed, a note, and the outcome of every UNKNOWN refund. Validated (only that status, a note,
 * every UNKNOWN refund and no other); runs one at a time with refunds and cancel; answers the
 * state after it. Refunds are possible again afterwards.
 */
export const resolveByOperatorUpdate = defineUpdate<PaymentState, [OperatorResolution]>(
  'resolveByOperator',
);

// MerchantQrCodeWorkflow messages (modify, setStatus, state): defined in their own file.
export * from './qrcode-messages';
