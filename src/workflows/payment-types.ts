/**
 * Data shapes of the PaymentWorkflow: its input, the notification it waits for, the Update
 * arguments and the state it exposes, plus its workflow ID. Plain JSON-serialisable types (they
 * travel as Temporal payloads); pure code, usable in the workflow, the HTTP layer and clients.
 */
/** The signal payload: the gateway layer's verified notification (its domain form). */
export type { PaymentNotification } from '../alipay';

/**
 * Where a payment is in its life.
 * `AWAITING_NOTIFICATION -> CONFIRMING -> PAID -> PARTIALLY_REFUNDED -> REFUNDED | CLOSED`,
 * `CONFIRMING | PAID -> REVERSING -> CANCELLED | REFUNDED`, and `FAILED_NEEDS_OPERATOR` whenever
 * a money-moving call ends without a definite answer. `CLOSED` also ends a payment that was
 * never made (no notification before the deadline, or Alipay says the trade is closed);
 * `REJECTED` one Alipay does not know at all (QUERY: no such trade, after retries).
 */
export type PaymentStatus =
  | 'AWAITING_NOTIFICATION'
  | 'CONFIRMING'
  | 'PAID'
  | 'PARTIALLY_REFUNDED'
  | 'REFUNDED'
  | 'CLOSED'
  | 'REVERSING'
  | 'CANCELLED'
  | 'FAILED_NEEDS_OPERATOR'
  /** A signed notification for a trade Alipay does not know: nothing was paid, nothing moved. */
  | 'REJECTED';

/** Every status, in the order of a payment's life (listings, metrics, timelines). */
export const PAYMENT_STATUSES: readonly PaymentStatus[] = [
  'AWAITING_NOTIFICATION',
  'CONFIRMING',
  'PAID',
  'PARTIALLY_REFUNDED',
  'REFUNDED',
  'CLOSED',
  'REVERSING',
  'CANCELLED',
  'FAILED_NEEDS_OPERATOR',
  'REJECTED',
];

/** What a merchant expects at the counter; the payment is reversed when QUERY disagrees. */
export interface ExpectedOrder {
  /** Decimal in major units, e.g. `"88.00"`. */
  amount: string;
  currency: string;
  /** The merchant's order reference, for the timeline. */
  orderId?: string;
}

/**
 * What the store's code said about a payment (asked by the PaymentWorkflow itself; see
 * `admissionRequested`):
 * - `PENDING`: asked, no answer yet (a slow worker delays it; the check is never skipped);
 * - `MATCHED`: the payment settles the counter order `orderId` (its amount must match);
 * - `HELD`: it matches no pending order and the store reverses such payments: it is held to the
 *   oldest order (`expected`), which it fails to match, so it is reversed;
 * - `WALK_IN`: an active code, no order to match;
 * - `CODE_INACTIVE`: the code is stopped or not created, or the paid code is not the store's:
 *   the payment is reversed;
 * - `NOT_MANAGED`: the engine manages no code of this store (created elsewhere): not checked;
 * - `NOT_CHECKED`: the notification names no store, so no code could be asked.
 */
export type AdmissionStatus =
  'PENDING' | 'MATCHED' | 'HELD' | 'WALK_IN' | 'CODE_INACTIVE' | 'NOT_MANAGED' | 'NOT_CHECKED';

/** The admission of a payment by its store's code, as the payment recorded it. */
export interface AdmissionRecord {
  status: AdmissionStatus;
  /** Workflow ID of the code that answered. */
  code?: string;
  /** The counter order the payment settles (MATCHED) or is held to (HELD). */
  orderId?: string;
  /** What the payment must match (MATCHED, HELD). */
  expected?: ExpectedOrder;
  detail?: string;
}

/** Start input of the PaymentWorkflow. */
export interface PaymentWorkflowInput {
  partnerId: string;
  outTradeNo: string;
  /** How long to wait for the payment notification (default {@link DEFAULT_NOTIFICATION_TIMEOUT_MS}). */
  notificationTimeoutMs?: number;
  /**
   * Legacy: set by receivers that admitted the payment themselves (before admission moved into
   * the workflows), and for merchant-started payments: QUERY's amount and currency must match.
   * A run with `expected` or `codeActive` in its input does not ask its code again.
   */
  expected?: ExpectedOrder;
  /**
   * Legacy (see `expected`): whether the store's code was known and active when the receiver
   * asked (undefined: not checked). `false` reverses the payment.
   */
  codeActive?: boolean;
  /** How long after payment refunds are accepted (default {@link DEFAULT_REFUND_WINDOW_MS}). */
  refundWindowMs?: number;
  /**
   * Confirmation keeps asking QUERY through Alipay's passing errors until this long before the
   * end of the payment's GMT+8 day, so that a reversal would still be a CANCEL with room to spare
   * (default {@link DEFAULT_CONFIRM_MARGIN_MS}; a payment later in the day gets about a minute).
   */
  confirmMarginMs?: number;
  /**
   * The merchant hook as configured where the payment was started: `false` when none is (no hook
   * activity is scheduled). `reverseOnFailure`: a new payment whose `payment.confirmed` hook fails
   * for `deadlineMs` is reversed (off by default: hooks are delivered durably, for hours,
   * whatever the payment's state). Absent: hooks are delivered (older inputs).
   */
  merchantHook?: false | { reverseOnFailure?: { deadlineMs: number } };
  /** Activity timeouts derived from the configured gateway and hook timeouts (default 30 s each). */
  callTimeouts?: { gatewayMs: number; hookMs: number };
  /**
   * Continue-as-new once the history has this many events (default {@link DEFAULT_MAX_HISTORY_EVENTS};
   * at least {@link MIN_MAX_HISTORY_EVENTS}, or the workflow fails with `PaymentInvalidInput`).
   */
  maxHistoryEvents?: number;
  /** Set by the workflow itself when it continues as new; never by a caller. */
  continued?: PaymentState;
}

/** `refund` Update argument. */
export interface RefundRequest {
  /** Stable per intended refund (Alipay `partner_refund_id`); a repeat returns the first result. */
  refundId: string;
  /** Decimal in major units of the payment's currency, e.g. `"12.50"`. */
  amount: string;
  /** Optional; must equal the payment's currency when given. */
  currency?: string;
  reason?: string;
}

/** `cancel` Update argument. */
export interface CancelRequest {
  reason?: string;
}

/**
 * `resolveByOperator` Update argument: what an operator found at Alipay (portal, reconciliation
 * file) for a FAILED_NEEDS_OPERATOR payment.
 */
export interface OperatorResolution {
  /** Whether the payment was reversed (CANCEL or full REFUND) at Alipay. */
  outcome: 'REVERSED' | 'NOT_REVERSED';
  /** Why the operator says so (where it was checked); recorded on the timeline. */
  note: string;
  /** The outcome of every UNKNOWN ledger entry, by refund ID (required while any is UNKNOWN). */
  refundOutcomes?: Record<string, 'SUCCEEDED' | 'FAILED'>;
}

export type RefundStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'UNKNOWN';

/** One entry of the refund ledger (the automatic full refund of a reversal included). */
export interface RefundEntry {
  /** The merchant's ID (Idempotency-Key): unique per payment. */
  refundId: string;
  /**
   * The `partner_refund_id` sent to Alipay (unique per partner, see `gatewayRefundId`); the
   * reconciliation files carry it. Absent on entries from before it was derived: their
   * `refundId` was sent.
   */
  gatewayRefundId?: string;
  amountMinor: number;
  /** The same amount as a decimal string (`"12.50"`). */
  amount: string;
  currency: string;
  status: RefundStatus;
  reason?: string;
  /** Why it failed or is unknown (the failure type and message). */
  failure?: string;
  /** True for the full refund of an automatic reversal. */
  reversal?: boolean;
  /** Epoch ms, workflow clock. */
  requestedAt: number;
  finishedAt?: number;
}

export interface TimelineEvent {
  /** Epoch milliseconds from the workflow clock. */
  at: number;
  event: string;
  detail?: string;
}

/** How an automatic reversal ended, and why it was needed. */
export interface ReversalRecord {
  reason: string;
  method?: 'CANCEL' | 'REFUND';
  outcome: 'PENDING' | 'DONE' | 'NOT_NEEDED' | 'UNKNOWN';
  detail?: string;
}

/** What query `state` returns (and the workflow's result). Amounts in minor units and decimals. */
export interface PaymentState {
  status: PaymentStatus;
  partnerId: string;
  outTradeNo: string;
  tradeNo?: string;
  storeId?: string;
  currency?: string;
  paidMinor: number;
  refundedMinor: number;
  /** Held by refunds in flight (and unknown refunds until resolved). */
  reservedMinor: number;
  /** `paid - refunded - reserved`: what a new refund may take. */
  refundableMinor: number;
  paid?: string;
  refunded?: string;
  refundable?: string;
  /** Payment time (epoch ms) from QUERY, else from the notification. */
  paidAt?: number;
  /** When CANCEL stops being possible (end of the GMT+8 transaction day). */
  cancelDeadline?: number;
  /** When refunds stop being accepted. */
  refundDeadline?: number;
  /** When the last refund or reversal succeeded (epoch ms): search attribute `LastRefundAt`. */
  lastRefundAt?: number;
  /** Why the payment needs an operator (set with FAILED_NEEDS_OPERATOR). */
  operatorReason?: string;
  /** What the store's code said (absent for runs from before admission moved into workflows). */
  admission?: AdmissionRecord;
  reversal?: ReversalRecord;
  refunds: RefundEntry[];
  /**
   * Newest last; capped at {@link MAX_TIMELINE_EVENTS}: beyond it the oldest event that is not a
   * milestone (a status, the start, the notification, the confirmation) is dropped.
   */
  timeline: TimelineEvent[];
  /** Every notification ID received (dedupe across continue-as-new). */
  notifyIds: string[];
  /** How many notifications arrived again with a `notify_id` already received (Alipay retries). */
  notificationRepeats?: number;
  continuedRuns: number;
}

/** Alipay retries a notification for about 25 hours; one day is the default patience. */
export const DEFAULT_NOTIFICATION_TIMEOUT_MS = 24 * 60 * 60 * 1000;
/** Confirmation's patience ends this long before the end of the payment's GMT+8 day. */
export const DEFAULT_CONFIRM_MARGIN_MS = 30 * 60 * 1000;
/** Refund period after payment when the input does not say (config default: 90 days). */
export const DEFAULT_REFUND_WINDOW_MS = 90 * 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_HISTORY_EVENTS = 2000;
/**
 * The smallest `maxHistoryEvents` accepted. A new run spends several events before it is idle
 * (start, first workflow task, search-attribute upserts); a limit near that would have every run
 * continue as new at once, in a loop. The tests use 40.
 */
export const MIN_MAX_HISTORY_EVENTS = 20;
export const MAX_TIMELINE_EVENTS = 200;

/** Failure type of a refund, cancel or resolveByOperator Update refused by its validator (nothing was sent). */
export const PAYMENT_UPDATE_REJECTED = 'PaymentUpdateRejected';

/**
 * `details[0]` of every Update refusal (`PaymentUpdateRejected`, `QrCodeUpdateRejected`): whether
 * the request itself is invalid (`INVALID`: fix the request; HTTP 422) or valid but in conflict
 * with the current state (`CONFLICT`: it may work in another state; HTTP 409), and the request
 * field at fault when one is.
 */
export interface UpdateRejection {
  kind: 'INVALID' | 'CONFLICT';
  field?: string;
}
/** Failure type of a refund or cancel Update that Alipay refused or that could not be completed. */
export const PAYMENT_UPDATE_FAILED = 'PaymentUpdateFailed';
/** Failure type of a PaymentWorkflow whose start input cannot run (nothing was sent). */
export const PAYMENT_INVALID_INPUT = 'PaymentInvalidInput';
/** Failure type when a workflow asks about a partner the worker does not sign for (nothing was sent). */
export const PAYMENT_PARTNER_MISMATCH = 'PaymentPartnerMismatch';

/**
 * Final failure types of CANCEL/REFUND after which Alipay has definitely NOT moved money: it
 * refused the request, or nothing was sent. Any other final failure (retries exhausted, an
 * unknown code, a bad signature on the answer…) leaves the outcome unknown. Shared by the
 * workflow (FAILED vs UNKNOWN) and the activities' outcome counters.
 */
export const MONEY_REFUSED_FOR_SURE: readonly string[] = [
  'AlipayBusinessError',
  'AlipayGatewayError',
  'AlipayRequestValidationError',
  PAYMENT_PARTNER_MISMATCH,
];

/**
 * The ID of the one PaymentWorkflow of an Alipay transaction: partner + `out_trade_no`, readable
 * in the Web UI (`payment/2088101122136241/OT-123`). Pure: safe in workflows, the receiver and
 * clients.
 */
export function paymentWorkflowId(partnerId: string, outTradeNo: string): string {
  return `payment/${partnerId}/${outTradeNo}`;
}
