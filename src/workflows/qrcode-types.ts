/**
 * Data shapes of the MerchantQrCodeWorkflow: its input, the state it exposes and its workflow
 * ID. Plain JSON-serialisable types (they travel as Temporal payloads); pure code, usable in the
 * workflow, the HTTP layer and clients alike.
 */
import type { QrCodeInput, QrCodeStatusChange } from '../alipay';
import type { ExpectedOrder } from './payment-types';

export type { QrCodeInput, QrCodeStatusChange } from '../alipay';
export type { ExpectedOrder, UpdateRejection } from './payment-types';

/**
 * Where a code is in its life. `CREATING` only until the first CREATE succeeded;
 * then ACTIVE -STOP-> STOPPED -RESTART-> ACTIVE, and ACTIVE | STOPPED -DELETE-> DELETED (terminal).
 */
export type QrCodeLifecycle = 'CREATING' | 'ACTIVE' | 'STOPPED' | 'DELETED';

/** One entry of a code's change history. */
export interface QrCodeChange {
  /** Epoch milliseconds from the workflow clock. */
  at: number;
  action:
    | 'CREATE'
    | 'MODIFY'
    | QrCodeStatusChange
    | 'CONTINUED_AS_NEW'
    | 'EXPECT_PAYMENT'
    | 'WITHDRAW_ORDER'
    | 'PAYMENT_ADMITTED';
  outcome: 'APPLIED' | 'FAILED';
  /** Why it failed (the gateway's message), or a note (the order, the payment). */
  detail?: string;
}

/** What query `state` returns (and what every Update returns after it applied its change). */
export interface QrCodeState {
  status: QrCodeLifecycle;
  partnerId: string;
  storeId: string;
  /** True for the store's code that carries a `channelFee` (at most one of each per store). */
  withFee: boolean;
  /** The code content (`https://qr.alipay.com/…`); absent while CREATING. */
  qrcode?: string;
  /** Alipay-hosted picture of the code, when Alipay returned one. */
  imageUrl?: string;
  /** The code's current data, exactly as last sent to Alipay. */
  info: QrCodeInput;
  /** Newest last; capped at {@link MAX_HISTORY_ENTRIES} (oldest dropped). */
  history: QrCodeChange[];
  /** How many runs this workflow has continued from (0 on the first run). */
  continuedRuns: number;
  /** Counter orders waiting for their payment, oldest first (expired ones left out). */
  pendingOrders: CounterOrder[];
  /** What happens to a payment that matches no pending order (from the start input). */
  unmatchedPayments: UnmatchedPaymentPolicy;
  /**
   * Orders closed within the last {@link CLOSED_ORDER_MEMORY_MS} (at most
   * {@link MAX_CLOSED_ORDERS}), oldest first: a payment made while one of them was live is held
   * to it even when it is admitted later. Absent in states carried from before it existed.
   */
  closedOrders?: ClosedOrder[];
  /**
   * The latest admissions, oldest first, capped at {@link MAX_ADMISSIONS}: a repeated
   * `admitPayment` for the same `outTradeNo` answers the recorded one.
   */
  admissions: Array<{ outTradeNo: string } & PaymentAdmission>;
}

/** A payment the merchant's till expects at this code ("expect 88.00 USD for order 123"). */
export interface CounterOrder {
  orderId: string;
  /** Decimal in major units, normalised to the currency's exponent (`"88.00"`). */
  amount: string;
  currency: string;
  amountMinor: number;
  /** Epoch ms, workflow clock. */
  registeredAt: number;
  /** Epoch ms, workflow clock: the order is ignored (and dropped) from then on. */
  expiresAt: number;
}

/** `expectPayment` Update argument. */
export interface ExpectPaymentRequest {
  /** The merchant's order reference, 1..64 characters; repeating a pending one is idempotent. */
  orderId: string;
  /** Decimal in major units, greater than zero, valid for the currency. */
  amount: string;
  /** Must be the code's `pricingCurrency`. */
  currency: string;
  /** How long the order waits for its payment: 1 minute..24 hours, default 15 minutes. */
  ttlMs?: number;
}

/** A counter order that is no longer pending: settled, withdrawn or expired. */
export interface ClosedOrder extends CounterOrder {
  /** Epoch ms, workflow clock: when it stopped being pending. */
  closedAt: number;
  /** The payment that settled it, when one did. */
  settledBy?: string;
}

/** A payment to be admitted to a code's counter orders. */
export interface PaymentAdmissionRequest {
  outTradeNo: string;
  /**
   * When the customer paid (epoch ms, Alipay's `gmt_payment`, else the notification time): the
   * orders that were live then decide a late admission (a busy code, a worker restart), not the
   * orders live when the request is processed. Absent: the processing time.
   */
  paidAt?: number;
  /**
   * When the payment's first notification reached Temporal (epoch ms, Temporal's clock, like the
   * code's): the customer paid no later than this.
   */
  arrivedAt?: number;
  /** The paid code, when the notification names it. */
  qrcode?: string;
  /** The paid amount (decimal in major units) and currency, when the notification has them. */
  amount?: string;
  currency?: string;
}

/** The answer of `admitPayment`: what the PaymentWorkflow must check. */
export interface PaymentAdmission {
  /** False when `qrcode` was given and is not this slot's code (ask the other slot). */
  codeMatches: boolean;
  /** The code is ACTIVE (false for STOPPED, CREATING, or not this slot's code). */
  codeActive: boolean;
  /** The code's status when it was asked (absent in answers recorded before it was given). */
  codeStatus?: QrCodeLifecycle;
  /** What the payment must match; absent for a walk-in payment. */
  expected?: ExpectedOrder;
  /** The counter order this payment settled (removed from pending). */
  matchedOrderId?: string;
}

/**
 * A PaymentWorkflow asks its store's code to admit its payment (signal `admissionRequested`): once
 * per payment run, in the order notifications reached Temporal. The code answers with signal
 * `admissionAnswered` to `replyTo`.
 */
export interface AdmissionRequest extends PaymentAdmissionRequest {
  /** Workflow ID of the asking PaymentWorkflow: where the answer goes. */
  replyTo: string;
}

/** The code's answer to an {@link AdmissionRequest}, signalled back to the payment. */
export interface AdmissionAnswer extends PaymentAdmission {
  outTradeNo: string;
  /** The answering code's workflow ID (which store slot answered). */
  codeWorkflowId: string;
}

/** An answer the code has decided but not yet delivered (carried across continue-as-new). */
export interface UndeliveredAnswer {
  replyTo: string;
  answer: AdmissionAnswer;
}

/**
 * What happens to a payment that matches no pending counter order while some are pending:
 * `ACCEPT` it as a walk-in payment, or `REVERSE` it (it is admitted against the oldest pending
 * order, which it fails to match, so the PaymentWorkflow reverses it at once).
 */
export type UnmatchedPaymentPolicy = 'ACCEPT' | 'REVERSE';

/** Start input of the MerchantQrCodeWorkflow. */
export interface MerchantQrCodeInput {
  partnerId: string;
  /** The code's data; `info.storeId` and the presence of `info.channelFee` pick the store slot. */
  info: QrCodeInput;
  /**
   * Continue-as-new once the run's history has this many events (or when the server suggests
   * it, whichever comes first). Default {@link DEFAULT_MAX_HISTORY_EVENTS}.
   */
  maxHistoryEvents?: number;
  /** Policy for payments that match no pending counter order (default `REVERSE`). */
  unmatchedPayments?: UnmatchedPaymentPolicy;
  /** Set by the workflow itself when it continues as new; never by a caller. */
  continued?: QrCodeState;
  /**
   * Set by the workflow itself when it continues as new: admission answers decided by the
   * previous run and not yet delivered (delivered first by the new run).
   */
  undelivered?: UndeliveredAnswer[];
}

/** Default history length that triggers continue-as-new (the server suggests it at ~4K events too). */
export const DEFAULT_MAX_HISTORY_EVENTS = 2000;

/** Change-history entries kept (and carried across continue-as-new). */
export const MAX_HISTORY_ENTRIES = 200;

/**
 * Admissions remembered (and carried across continue-as-new). Each payment asks once, so this
 * is a safety net against a repeated request (a reset payment, or a payment admitted by an older
 * receiver and asked again), and the recent admissions an operator sees.
 */
export const MAX_ADMISSIONS = 500;

/** How long a closed order is remembered for late admissions: one hour. */
export const CLOSED_ORDER_MEMORY_MS = 60 * 60 * 1000;
/** Closed orders remembered at most. */
export const MAX_CLOSED_ORDERS = 200;
/**
 * Slack between Alipay's payment time and the code's clock: an order registered up to this long
 * after the payment time still counts as live for it (the till and the customer race, clocks
 * drift by a few seconds).
 */
export const ORDER_CLOCK_TOLERANCE_MS = 10_000;

/** Admission answers signalled at once by a code (one workflow task's commands). */
export const ANSWER_BATCH = 50;

/** Counter orders that may wait at one code at once. */
export const MAX_PENDING_ORDERS = 100;

/** How long a counter order waits for its payment unless `ttlMs` says otherwise: 15 minutes. */
export const DEFAULT_ORDER_TTL_MS = 15 * 60 * 1000;
/** Bounds of an order's `ttlMs`: 1 minute..24 hours. */
export const MIN_ORDER_TTL_MS = 60 * 1000;
export const MAX_ORDER_TTL_MS = 24 * 60 * 60 * 1000;

/** Failure type of an Update refused by its validator (nothing was sent to Alipay). */
export const QR_CODE_UPDATE_REJECTED = 'QrCodeUpdateRejected';

/** Failure type of an Update whose gateway call failed for good (the code is unchanged). */
export const QR_CODE_GATEWAY_FAILED = 'QrCodeGatewayFailed';

/** Failure type of a workflow whose input cannot describe a code (nothing was sent). */
export const QR_CODE_INVALID_INPUT = 'QrCodeInvalidInput';

/**
 * The ID of the one MerchantQrCodeWorkflow of a store slot: partner + store + fee variant
 * (Alipay allows one code with and one without a channel fee per store). Readable in the Web UI,
 * e.g. `qrcode/2088101122136241/S01/no-fee`. Pure: safe in workflows and clients.
 */
export function qrCodeWorkflowId(partnerId: string, storeId: string, withFee: boolean): string {
  return `qrcode/${partnerId}/${storeId}/${withFee ? 'fee' : 'no-fee'}`;
}
