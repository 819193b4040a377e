/**
 * Data shapes of the PaymentWorkflow: its input, the notification it waits for and the state it
 * exposes. Plain JSON-serialisable types (they travel as Temporal payloads).
 */

export type PaymentStatus = 'AWAITING_NOTIFICATION' | 'NOTIFIED' | 'NOTIFICATION_TIMED_OUT';

export interface PaymentWorkflowInput {
  partnerId: string;
  outTradeNo: string;
  /** How long to wait for the payment notification before giving up. */
  notificationTimeoutMs?: number;
}

/** The domain view of a verified notification (the MAPI form is mapped in src/alipay). */
export interface PaymentNotification {
  notifyId: string;
  outTradeNo: string;
  tradeNo?: string;
  tradeStatus: string;
  /** Every field as received, for the audit trail. */
  fields: Record<string, string>;
}

export interface TimelineEvent {
  /** Epoch milliseconds from the workflow clock. */
  at: number;
  event: string;
  detail?: string;
}

export interface PaymentState {
  status: PaymentStatus;
  partnerId: string;
  outTradeNo: string;
  tradeNo?: string;
  timeline: TimelineEvent[];
}
