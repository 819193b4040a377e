import { InvalidMoneyError, formatMinor, parseMoney } from '../money';
import {
  CLOSED_ORDER_MEMORY_MS,
  DEFAULT_ORDER_TTL_MS,
  MAX_ADMISSIONS,
  MAX_CLOSED_ORDERS,
  ORDER_CLOCK_TOLERANCE_MS,
  type ClosedOrder,
  MAX_ORDER_TTL_MS,
  MAX_PENDING_ORDERS,
  MIN_ORDER_TTL_MS,
  type CounterOrder,
  type ExpectPaymentRequest,
  type PaymentAdmission,
  type PaymentAdmissionRequest,
  type QrCodeChange,
  type QrCodeLifecycle,
  type QrCodeState,
} from './qrcode-types';
import { conflict, invalid, type Refusal } from './refusal';

/** The part of a code's state the counter orders keep (carried across continue-as-new). */
export type CounterOrderState = Pick<
  QrCodeState,
  'pendingOrders' | 'admissions' | 'unmatchedPayments' | 'closedOrders'
>;

/** What the orders need to know of their code. */
export interface CounterCode {
  readonly status: QrCodeLifecycle;
  readonly qrcode?: string;
  readonly info: { readonly pricingCurrency: string };
}

/** Appends to the code's change history. */
export type LogChange = (action: QrCodeChange['action'], detail: string, at: number) => void;

/**
 * The counter orders of one code ("expect 88.00 USD for order 123") and the admission of each
 * verified payment to them: a payment settles the oldest pending order with its amount and
 * currency; one that matches none follows the code's `UnmatchedPaymentPolicy`. Admission is
 * idempotent per `outTradeNo`, so a notification Alipay sends again gets the same answer.
 *
 * Pure and deterministic: times come from the caller (the workflow clock). An order is live while
 * `at < expiresAt`; expired ones are ignored by every check and dropped by the next change.
 */
export class CounterOrders {
  /** The remembered admissions by `outTradeNo` (an index of `state.admissions`). */
  private readonly admitted = new Map<string, PaymentAdmission>();

  constructor(
    private readonly state: CounterOrderState,
    private readonly code: CounterCode,
    private readonly log: LogChange,
  ) {
    for (const { outTradeNo, ...admission } of state.admissions)
      this.admitted.set(outTradeNo, admission);
  }

  /** The live orders at `at`, oldest first. */
  pending(at: number): CounterOrder[] {
    return this.state.pendingOrders.filter((order) => at < order.expiresAt);
  }

  /**
   * Why `expectPayment(req)` is refused: bad input first (INVALID), then the code's state
   * (CONFLICT). A live order repeated with the same amount and currency is not refused.
   */
  whyNotExpect(req: unknown, at: number): Refusal | undefined {
    if (typeof req !== 'object' || req === null) return invalid('the request must be an object');
    const { orderId, amount, currency, ttlMs } = req as Partial<ExpectPaymentRequest>;
    if (!isId(orderId)) return invalid('orderId is required (1 to 64 characters)', 'orderId');
    const pricing = this.code.info.pricingCurrency;
    if (currency !== pricing) {
      return invalid(
        `currency ${String(currency)} is not this code's pricing currency ${pricing}`,
        'currency',
      );
    }
    const minor = parseAmount(amount, currency);
    if (typeof minor === 'string') return invalid(minor, 'amount');
    if (minor <= 0) return invalid('amount must be greater than zero', 'amount');
    if (
      ttlMs !== undefined &&
      !(Number.isSafeInteger(ttlMs) && ttlMs >= MIN_ORDER_TTL_MS && ttlMs <= MAX_ORDER_TTL_MS)
    ) {
      return invalid(
        `ttlMs must be an integer from ${MIN_ORDER_TTL_MS} (1 minute) to ${MAX_ORDER_TTL_MS} (24 hours)`,
        'ttlMs',
      );
    }
    if (this.code.status !== 'ACTIVE') {
      return conflict(`the code is ${this.code.status}; only an ACTIVE code takes counter orders`);
    }
    const live = this.pending(at);
    const same = live.find((order) => order.orderId === orderId);
    if (same) {
      return same.amountMinor === minor && same.currency === currency
        ? undefined
        : conflict(
            `order ${orderId} is already pending with other parameters (${same.amount} ${same.currency})`,
            'orderId',
          );
    }
    if (live.length >= MAX_PENDING_ORDERS) {
      return conflict(
        `${MAX_PENDING_ORDERS} orders are already pending at this code; withdraw some or let them expire`,
      );
    }
    return undefined;
  }

  /** Registers an order (checked by {@link whyNotExpect}); a repeat answers the pending one. */
  expect(req: ExpectPaymentRequest, at: number): CounterOrder {
    this.dropExpired(at);
    const same = this.state.pendingOrders.find((order) => order.orderId === req.orderId);
    if (same) return { ...same };
    const amountMinor = parseMoney(req.amount, req.currency).minor;
    const order: CounterOrder = {
      orderId: req.orderId,
      amount: formatMinor(amountMinor, req.currency),
      currency: req.currency,
      amountMinor,
      registeredAt: at,
      expiresAt: at + (req.ttlMs ?? DEFAULT_ORDER_TTL_MS),
    };
    this.state.pendingOrders.push(order);
    this.log('EXPECT_PAYMENT', `order ${order.orderId}: ${order.amount} ${order.currency}`, at);
    return { ...order };
  }

  /** Why `withdrawExpectedPayment({orderId})` is refused: only a live order can be withdrawn. */
  whyNotWithdraw(req: unknown, at: number): Refusal | undefined {
    const orderId = (req as { orderId?: unknown } | null)?.orderId;
    if (!isId(orderId)) return invalid('orderId is required (1 to 64 characters)', 'orderId');
    return this.pending(at).some((order) => order.orderId === orderId)
      ? undefined
      : conflict(
          `order ${orderId} is not pending (never expected, already paid, withdrawn or expired)`,
          'orderId',
        );
  }

  /** Removes a live order (checked by {@link whyNotWithdraw}). */
  withdraw(orderId: string, at: number): void {
    this.dropExpired(at);
    const index = this.state.pendingOrders.findIndex((order) => order.orderId === orderId);
    if (index < 0) return;
    const [order] = this.state.pendingOrders.splice(index, 1) as [CounterOrder];
    this.close(order, at);
    this.log('WITHDRAW_ORDER', `order ${orderId}: ${order.amount} ${order.currency}`, at);
  }

  /** Why an `admitPayment` request is malformed (the only reason admission is refused). */
  static whyInvalidAdmission(req: unknown): Refusal | undefined {
    if (typeof req !== 'object' || req === null) return invalid('the request must be an object');
    const fields = req as Partial<Record<keyof PaymentAdmissionRequest, unknown>>;
    if (typeof fields.outTradeNo !== 'string' || fields.outTradeNo.trim() === '') {
      return invalid('outTradeNo is required', 'outTradeNo');
    }
    for (const field of ['qrcode', 'amount', 'currency'] as const) {
      if (fields[field] !== undefined && typeof fields[field] !== 'string') {
        return invalid(`${field} must be a string when given`, field);
      }
    }
    for (const field of ['paidAt', 'arrivedAt'] as const) {
      if (fields[field] !== undefined && !Number.isSafeInteger(fields[field]))
        return invalid(`${field} must be epoch milliseconds when given`, field);
    }
    return undefined;
  }

  /**
   * What a verified payment must match, and the order it settles. A repeated `outTradeNo`
   * answers the recorded admission; a payment to another code is told so and not recorded.
   */
  admit(req: PaymentAdmissionRequest, at: number): PaymentAdmission {
    const recorded = this.admitted.get(req.outTradeNo);
    if (recorded) return { ...recorded };
    if (req.qrcode !== undefined && req.qrcode !== this.code.qrcode) {
      return { codeMatches: false, codeActive: false, codeStatus: this.code.status };
    }
    const admission = this.admitToOrders(req, at);
    this.admitted.set(req.outTradeNo, admission);
    this.state.admissions.push({ outTradeNo: req.outTradeNo, ...admission });
    if (this.state.admissions.length > MAX_ADMISSIONS) {
      const dropped = this.state.admissions.splice(
        0,
        this.state.admissions.length - MAX_ADMISSIONS,
      );
      for (const { outTradeNo } of dropped) this.admitted.delete(outTradeNo);
    }
    return { ...admission };
  }

  /**
   * Settles the oldest pending order with the payment's amount and currency; else, under
   * `REVERSE`, holds the payment to the oldest order that was live when the customer paid
   * (pending now, or closed since), so that it is reversed. Orders registered after the payment
   * (beyond {@link ORDER_CLOCK_TOLERANCE_MS}) are not its business.
   */
  private admitToOrders(req: PaymentAdmissionRequest, at: number): PaymentAdmission {
    const codeStatus = this.code.status;
    const codeActive = codeStatus === 'ACTIVE';
    if (!codeActive) return { codeMatches: true, codeActive, codeStatus };
    this.dropExpired(at);
    const paidAt = req.paidAt ?? req.arrivedAt ?? at;
    // The latest moment the customer can have paid: Alipay's time has whole seconds, and the
    // notification cannot have arrived before the payment.
    const paidBy = Math.min(
      req.arrivedAt ?? at,
      req.paidAt !== undefined ? req.paidAt + PAID_AT_RESOLUTION_MS - 1 : Infinity,
    );
    const knownThen = (order: CounterOrder) =>
      order.registeredAt <= paidAt + ORDER_CLOCK_TOLERANCE_MS;
    const minor = parseAmount(req.amount, req.currency);
    const match = this.state.pendingOrders.find(
      (order) => knownThen(order) && order.currency === req.currency && order.amountMinor === minor,
    );
    if (match) {
      this.state.pendingOrders.splice(this.state.pendingOrders.indexOf(match), 1);
      this.close(match, at, req.outTradeNo);
      this.log('PAYMENT_ADMITTED', `${req.outTradeNo} settles order ${describe(match)}`, at);
      return {
        codeMatches: true,
        codeActive,
        codeStatus,
        expected: expectedOf(match),
        matchedOrderId: match.orderId,
      };
    }
    if (this.state.unmatchedPayments === 'ACCEPT')
      return { codeMatches: true, codeActive, codeStatus };
    const liveThen: CounterOrder[] = [
      ...this.state.pendingOrders.filter(knownThen),
      // Closed after the customer paid for sure; an order closed maybe before is not held
      // against a payment (a walk-in right after an order was paid keeps its money).
      ...(this.state.closedOrders ?? []).filter((o) => knownThen(o) && paidBy < o.closedAt),
    ];
    const [oldest] = liveThen.sort((a, b) => a.registeredAt - b.registeredAt);
    if (!oldest) return { codeMatches: true, codeActive, codeStatus };
    // Not claimed: the customer may pay the order again, correctly, after this one is reversed.
    this.log(
      'PAYMENT_ADMITTED',
      `${req.outTradeNo} (${req.amount ?? '?'} ${req.currency ?? '?'}) matches no order; held to order ${describe(oldest)}, to be reversed`,
      at,
    );
    return { codeMatches: true, codeActive, codeStatus, expected: expectedOf(oldest) };
  }

  private dropExpired(at: number): void {
    const live = this.pending(at);
    if (live.length === this.state.pendingOrders.length) return;
    for (const order of this.state.pendingOrders)
      if (order.expiresAt <= at) this.close(order, order.expiresAt);
    this.state.pendingOrders = live;
  }

  /** Remembers an order that stopped being pending (bounded in age and count). */
  private close(order: CounterOrder, closedAt: number, settledBy?: string): void {
    const closed: ClosedOrder[] = (this.state.closedOrders ??= []);
    closed.push({ ...order, closedAt, ...(settledBy ? { settledBy } : {}) });
    const keepFrom = closed.findIndex((o) => o.closedAt >= closedAt - CLOSED_ORDER_MEMORY_MS);
    closed.splice(0, keepFrom < 0 ? closed.length : keepFrom);
    if (closed.length > MAX_CLOSED_ORDERS) closed.splice(0, closed.length - MAX_CLOSED_ORDERS);
  }
}

/** The precision of Alipay's payment and notification times. */
const PAID_AT_RESOLUTION_MS = 1000;

const isId = (v: unknown): v is string =>
  typeof v === 'string' && v.trim() !== '' && v.length <= 64;

/** Minor units of a decimal amount, or why it is not one. */
function parseAmount(amount: unknown, currency: unknown): number | string {
  if (typeof amount !== 'string') return 'amount must be a decimal string such as 88.00';
  try {
    return parseMoney(amount, String(currency)).minor;
  } catch (err) {
    if (err instanceof InvalidMoneyError) return err.message;
    throw err;
  }
}

function expectedOf(order: CounterOrder): { amount: string; currency: string; orderId: string } {
  return { amount: order.amount, currency: order.currency, orderId: order.orderId };
}

function describe(order: CounterOrder): string {
  return `${order.orderId} (${order.amount} ${order.currency})`;
}
