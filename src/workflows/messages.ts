import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PaymentNotification, PaymentState } from './payment-types';

/**
 * Every message of the PaymentWorkflow, defined once and imported by the workflow, the
 * notification receiver and the merchant client alike.
 */

/** A verified Alipay payment notification, forwarded by the receiver (signal-with-start). */
export const paymentNotifiedSignal = defineSignal<[PaymentNotification]>('paymentNotified');

/** Everything an operator needs: status, amounts, timeline. */
export const paymentStateQuery = defineQuery<PaymentState>('state');
