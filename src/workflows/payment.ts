import { condition, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { paymentNotifiedSignal, paymentStateQuery } from './messages';
import type { PaymentNotification, PaymentState, PaymentWorkflowInput } from './payment-types';
import { AlipayOutTradeNo, AlipayPartnerId, AlipayTradeNo, PaymentStatus } from '../search-attributes';

/** Alipay retries a notification for about 25 hours; one day is the default patience. */
export const DEFAULT_NOTIFICATION_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/**
 * One Alipay transaction, from its payment notification onwards.
 *
 * Foundation skeleton: waits (durably) for the payment notification with a deadline and records
 * what happened. Confirmation, reversal and refunds follow in later steps.
 */
export async function PaymentWorkflow(input: PaymentWorkflowInput): Promise<PaymentState> {
  const state: PaymentState = {
    status: 'AWAITING_NOTIFICATION',
    partnerId: input.partnerId,
    outTradeNo: input.outTradeNo,
    timeline: [{ at: Date.now(), event: 'STARTED' }],
  };
  let notification: PaymentNotification | undefined;

  setHandler(paymentStateQuery, () => state);
  setHandler(paymentNotifiedSignal, (received) => {
    // Alipay re-sends notifications: the first one wins, repeats are only recorded.
    state.timeline.push({ at: Date.now(), event: 'NOTIFICATION_RECEIVED', detail: received.notifyId });
    notification ??= received;
  });
  publish(state);

  const arrived = await condition(
    () => notification !== undefined,
    input.notificationTimeoutMs ?? DEFAULT_NOTIFICATION_TIMEOUT_MS,
  );
  if (!arrived || !notification) {
    state.status = 'NOTIFICATION_TIMED_OUT';
    state.timeline.push({ at: Date.now(), event: 'NOTIFICATION_TIMED_OUT' });
  } else {
    state.status = 'NOTIFIED';
    state.tradeNo = notification.tradeNo;
  }
  publish(state);
  return state;
}

/** Keeps what the Web UI shows (search attributes, current details) in step with the state. */
function publish(state: PaymentState): void {
  upsertSearchAttributes([
    { key: PaymentStatus, value: state.status },
    { key: AlipayPartnerId, value: state.partnerId },
    { key: AlipayOutTradeNo, value: state.outTradeNo },
    ...(state.tradeNo ? [{ key: AlipayTradeNo, value: state.tradeNo }] : []),
  ]);
  setCurrentDetails(`**${state.status}** — out_trade_no ${state.outTradeNo}`);
}
