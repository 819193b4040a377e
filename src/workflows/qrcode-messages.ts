import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  AdmissionAnswer,
  AdmissionRequest,
  CounterOrder,
  ExpectPaymentRequest,
  PaymentAdmission,
  PaymentAdmissionRequest,
  QrCodeInput,
  QrCodeState,
  QrCodeStatusChange,
} from './qrcode-types';

/**
 * Every message of the MerchantQrCodeWorkflow, defined once and imported by the workflow, the
 * merchant API and the client alike (re-exported by `messages.ts`).
 *
 * Every Update is validated synchronously: a refused one is never written to history and fails
 * with type `QrCodeUpdateRejected`, the reason as message and an `UpdateRejection` as
 * `details[0]` (`INVALID` request, or `CONFLICT` with the code's state; the field at fault).
 * `modify` and `setStatus` are then applied one at a time through MODIFY / MODIFYSTATUS; each
 * returns the code's state after the change. A gateway failure that retries cannot fix fails the
 * Update with type `QrCodeGatewayFailed`; the code is then unchanged. The counter-order Updates
 * call nothing and answer at once, even while a gateway change is running.
 */

/** MODIFY: replace the code's data (always the complete set, MAPI.md §7.1). */
export const modifyQrCodeUpdate = defineUpdate<QrCodeState, [QrCodeInput]>('modify');

/** MODIFYSTATUS: STOP an active code, RESTART a stopped one, or DELETE it (final: the workflow ends). */
export const setQrCodeStatusUpdate = defineUpdate<QrCodeState, [QrCodeStatusChange]>('setStatus');

/**
 * A merchant's till expects a payment at this code ("expect 88.00 USD for order 123"): the next
 * payment of that amount and currency settles the order. Only at an ACTIVE code, in its pricing
 * currency; a pending `orderId` repeated with the same amount answers the pending order, with
 * another amount it is refused. Answers the order (with its `expiresAt`).
 */
export const expectPaymentUpdate = defineUpdate<CounterOrder, [ExpectPaymentRequest]>(
  'expectPayment',
);

/** Withdraws a pending counter order (refused when it is not pending); answers the state. */
export const withdrawExpectedPaymentUpdate = defineUpdate<QrCodeState, [{ orderId: string }]>(
  'withdrawExpectedPayment',
);

/**
 * A PaymentWorkflow asks its store's code to admit its payment: is this the slot's code, is it
 * active, and what must the payment match (the oldest pending order of its amount and currency,
 * which it settles; or, when it matches none, the store's policy). Applied in arrival order, once
 * per `outTradeNo`; the answer is signalled back ({@link admissionAnsweredSignal}). Durable on
 * both sides: a slow or absent worker delays the answer, it never skips the check.
 */
export const admissionRequestedSignal = defineSignal<[AdmissionRequest]>('admissionRequested');

/** The code's answer to `admissionRequested`, signalled to the asking PaymentWorkflow. */
export const admissionAnsweredSignal = defineSignal<[AdmissionAnswer]>('admissionAnswered');

/**
 * Legacy: asked by notification receivers before admission moved into the workflows (kept for
 * receivers still running that code, and for recorded histories).
 * Asked by the notification receiver for each verified payment before it starts the
 * PaymentWorkflow: is this the slot's code, is it active, and what must the payment match (the
 * oldest pending order of its amount and currency, which it settles; or, when it matches none,
 * the store's policy). Idempotent per `outTradeNo`. Refused only for malformed input.
 */
export const admitPaymentUpdate = defineUpdate<PaymentAdmission, [PaymentAdmissionRequest]>(
  'admitPayment',
);

/**
 * The code's state: status (CREATING | ACTIVE | STOPPED | DELETED), `qrcode`, image URL, data,
 * change history, pending counter orders and recent admissions. It is also how another workflow
 * or the notification receiver asks "is this code known and active": query the store's workflow
 * (ID from `qrCodeWorkflowId`) and check `status === 'ACTIVE'` and `qrcode` equal to the paid
 * code (`admitPayment` answers that too, and settles counter orders). Workflows cannot query, so a
 * PaymentWorkflow asks through an activity (a Temporal client call) — or, when the workflow is
 * gone (DELETED codes end it), treats "not found" as "not active".
 */
export const qrCodeStateQuery = defineQuery<QrCodeState>('state');
