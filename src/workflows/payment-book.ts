import { ApplicationFailure } from '@temporalio/workflow';
import { formatMinor, parseMoney, InvalidMoneyError } from '../money';
import { endOfGmt8Day } from '../time';
import {
  MAX_TIMELINE_EVENTS,
  MIN_MAX_HISTORY_EVENTS,
  PAYMENT_STATUSES,
  PAYMENT_UPDATE_REJECTED,
  type OperatorResolution,
  type PaymentState,
  type PaymentWorkflowInput,
  type PaymentStatus,
  type RefundEntry,
  type RefundRequest,
  type UpdateRejection,
} from './payment-types';

/** Statuses in which the merchant may refund. */
const REFUNDABLE: readonly PaymentStatus[] = ['PAID', 'PARTIALLY_REFUNDED'];
/** Timeline events that are never dropped to make room: how the payment got where it is. */
const MILESTONES: ReadonlySet<string> = new Set([
  'STARTED',
  'NOTIFICATION_RECEIVED',
  'CONFIRMED',
  'ADMISSION',
  ...PAYMENT_STATUSES,
]);

/** Statuses after which nothing can change any more. */
const FINAL: readonly PaymentStatus[] = ['REFUNDED', 'CLOSED', 'CANCELLED', 'REJECTED'];

/** A refund or cancel request that is refused before anything is sent. */
export class PaymentRequestRejected extends Error {
  constructor(
    message: string,
    /** Invalid request or conflict with the state: the refusal's `details[0]`. */
    readonly rejection: UpdateRejection,
  ) {
    super(message);
    this.name = 'PaymentRequestRejected';
  }
}

/**
 * Runs a validator check; a refusal becomes a clear, typed Update failure whose `details[0]` is
 * its {@link UpdateRejection}.
 */
export function refuseIfInvalid<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof PaymentRequestRejected) {
      throw ApplicationFailure.create({
        type: PAYMENT_UPDATE_REJECTED,
        nonRetryable: true,
        message: err.message,
        details: [err.rejection],
      });
    }
    throw err;
  }
}

/**
 * The state of one payment that the main story and the message handlers share (as in the
 * `safe-message-handlers` sample): amounts, the refund ledger, the timeline and the checks that
 * keep them consistent. Pure and deterministic: time is the workflow clock (`Date.now()` inside a
 * workflow). Amounts are integer minor units; decimals are derived for people.
 */
export class PaymentBook {
  readonly state: PaymentState;

  constructor(init: { partnerId: string; outTradeNo: string } | PaymentState) {
    this.state =
      'refunds' in init
        ? init
        : {
            status: 'AWAITING_NOTIFICATION',
            partnerId: init.partnerId,
            outTradeNo: init.outTradeNo,
            paidMinor: 0,
            refundedMinor: 0,
            reservedMinor: 0,
            refundableMinor: 0,
            refunds: [],
            timeline: [],
            notifyIds: [],
            continuedRuns: 0,
          };
  }

  /** Why a start input cannot run as a payment, if it cannot (checked before anything happens). */
  static whyInvalidStart(input: PaymentWorkflowInput): string | undefined {
    const max: unknown = input.maxHistoryEvents;
    // Below this the history is already too long on arrival: every run would continue as new.
    if (max != null && !(typeof max === 'number' && max >= MIN_MAX_HISTORY_EVENTS))
      return `maxHistoryEvents must be a number of at least ${MIN_MAX_HISTORY_EVENTS} (got ${String(max)})`;
    return undefined;
  }

  get status(): PaymentStatus {
    return this.state.status;
  }

  get remainingMinor(): number {
    return this.state.paidMinor - this.state.refundedMinor - this.state.reservedMinor;
  }

  get isFinal(): boolean {
    return FINAL.includes(this.state.status);
  }

  /** Appends to the timeline (newest last; beyond the cap the oldest non-milestone goes). */
  record(event: string, detail?: string): void {
    const timeline = this.state.timeline;
    timeline.push({ at: Date.now(), event, ...(detail ? { detail } : {}) });
    if (timeline.length > MAX_TIMELINE_EVENTS) {
      const droppable = timeline.findIndex((e) => !MILESTONES.has(e.event));
      timeline.splice(droppable < 0 ? 0 : droppable, 1);
    }
  }

  /** Moves to `status` and records it; the only way the status changes. */
  moveTo(status: PaymentStatus, detail?: string): void {
    this.state.status = status;
    this.record(status, detail);
    this.refreshAmounts();
  }

  /** Marks a money-moving outcome nobody knows: loud, searchable, and never overwritten silently. */
  needsOperator(reason: string): void {
    this.state.operatorReason = reason;
    this.moveTo('FAILED_NEEDS_OPERATOR', reason);
  }

  /** Sets the confirmed amount and the deadlines that follow from the payment time. */
  setPaid(minor: number, currency: string, paidAt: number, refundWindowMs: number): void {
    this.state.paidMinor = minor;
    this.state.currency = currency;
    this.state.paidAt = paidAt;
    this.state.cancelDeadline = endOfGmt8Day(paidAt);
    this.state.refundDeadline = paidAt + refundWindowMs;
    this.refreshAmounts();
  }

  /** True while CANCEL may still be used: the GMT+8 day of the payment has not ended. */
  canCancelNow(): boolean {
    return this.state.cancelDeadline !== undefined && Date.now() < this.state.cancelDeadline;
  }

  refundWindowOpen(): boolean {
    return this.state.refundDeadline !== undefined && Date.now() < this.state.refundDeadline;
  }

  findRefund(refundId: string): RefundEntry | undefined {
    return this.state.refunds.find((r) => r.refundId === refundId);
  }

  /**
   * The validator's checks for a `refund` Update. Returns the existing entry for a repeat of an
   * earlier request (same ID and parameters), throws {@link PaymentRequestRejected} otherwise.
   */
  checkRefund(req: RefundRequest): { minor: number; existing?: RefundEntry } {
    const { currency } = this.state;
    if (typeof req?.refundId !== 'string' || req.refundId.trim() === '')
      invalid('refundId is required', 'refundId');
    if (req.refundId.length > 64) invalid('refundId is longer than 64 characters', 'refundId');
    if (req.refundId === this.state.outTradeNo)
      invalid('refundId must differ from the out_trade_no', 'refundId');
    if (!currency)
      conflict(`no refund before the payment is confirmed (status ${this.state.status})`);
    if (req.currency !== undefined && req.currency !== currency) {
      invalid(`currency ${req.currency} differs from the payment's ${currency}`, 'currency');
    }
    let minor: number;
    try {
      minor = parseMoney(String(req.amount ?? ''), currency).minor;
    } catch (err) {
      invalid(
        err instanceof InvalidMoneyError ? err.message : `invalid amount ${String(req.amount)}`,
        'amount',
      );
    }
    const existing = this.findRefund(req.refundId);
    if (existing) {
      if (
        existing.amountMinor !== minor ||
        (existing.reason ?? '') !== (req.reason ?? '') ||
        existing.reversal
      ) {
        conflict(
          `refundId ${req.refundId} was already used with other parameters (${existing.amount} ${existing.currency})`,
          'refundId',
        );
      }
      return { minor, existing };
    }
    if (minor <= 0) invalid('amount must be greater than zero', 'amount');
    if (!REFUNDABLE.includes(this.state.status))
      conflict(`a ${this.state.status} payment cannot be refunded`);
    if (!this.refundWindowOpen()) conflict('the refund window of this payment has closed');
    if (minor > this.remainingMinor) {
      conflict(
        `amount ${formatMinor(minor, currency)} exceeds the refundable ${formatMinor(Math.max(0, this.remainingMinor), currency)} ${currency}`,
        'amount',
      );
    }
    return { minor };
  }

  /** Opens a ledger entry and reserves its amount (synchronously, before any await). */
  reserveRefund(req: RefundRequest, minor: number, reversal = false): RefundEntry {
    const currency = this.state.currency as string;
    const entry: RefundEntry = {
      refundId: req.refundId,
      amountMinor: minor,
      amount: formatMinor(minor, currency),
      currency,
      status: 'PENDING',
      ...(req.reason ? { reason: req.reason } : {}),
      ...(reversal ? { reversal: true } : {}),
      requestedAt: Date.now(),
    };
    this.state.refunds.push(entry);
    this.state.reservedMinor += minor;
    this.refreshAmounts();
    this.record('REFUND_REQUESTED', `${entry.refundId} ${entry.amount} ${currency}`);
    return entry;
  }

  /** Closes a ledger entry: success moves the amount to refunded, failure releases it, unknown keeps it reserved. */
  settleRefund(
    entry: RefundEntry,
    status: 'SUCCEEDED' | 'FAILED' | 'UNKNOWN',
    failure?: string,
  ): void {
    entry.status = status;
    entry.finishedAt = Date.now();
    if (failure) entry.failure = failure;
    if (status !== 'UNKNOWN') this.state.reservedMinor -= entry.amountMinor;
    if (status === 'SUCCEEDED') {
      this.state.refundedMinor += entry.amountMinor;
      this.state.lastRefundAt = entry.finishedAt;
    }
    this.refreshAmounts();
    this.record(
      `REFUND_${status}`,
      `${entry.refundId} ${entry.amount} ${entry.currency}${failure ? `: ${failure}` : ''}`,
    );
  }

  /** The status a paid payment has after its refunds. */
  refundedStatus(): PaymentStatus {
    if (this.state.refundedMinor >= this.state.paidMinor && this.state.paidMinor > 0)
      return 'REFUNDED';
    return this.state.refundedMinor > 0 ? 'PARTIALLY_REFUNDED' : 'PAID';
  }

  /** The validator's checks for a `cancel` Update. */
  checkCancel(): void {
    if (this.state.status !== 'PAID')
      conflict(`a ${this.state.status} payment cannot be cancelled (only PAID, with no refunds)`);
    if (this.state.reservedMinor > 0 || this.state.refundedMinor > 0)
      conflict('a payment with refunds cannot be cancelled');
    if (!this.canCancelNow())
      conflict('CANCEL is only possible on the GMT+8 day of the payment; use refund');
  }

  /** True while a reversal (automatic or the merchant's CANCEL) has no known outcome. */
  get reversalOpen(): boolean {
    const outcome = this.state.reversal?.outcome;
    return outcome === 'UNKNOWN' || outcome === 'PENDING';
  }

  /**
   * The validator's checks for a `resolveByOperator` Update: only FAILED_NEEDS_OPERATOR, a note,
   * an outcome for every UNKNOWN ledger entry and for nothing else.
   */
  checkResolution(req: OperatorResolution): void {
    if (this.state.status !== 'FAILED_NEEDS_OPERATOR')
      conflict(`a ${this.state.status} payment needs no operator (only FAILED_NEEDS_OPERATOR)`);
    if (req?.outcome !== 'REVERSED' && req?.outcome !== 'NOT_REVERSED')
      invalid(`outcome must be REVERSED or NOT_REVERSED (got ${String(req?.outcome)})`, 'outcome');
    if (typeof req.note !== 'string' || req.note.trim() === '')
      invalid('a note is required (what was checked at Alipay)', 'note');
    const told: unknown = req.refundOutcomes ?? {};
    if (typeof told !== 'object' || told === null || Array.isArray(told))
      invalid('refundOutcomes must map refund IDs to SUCCEEDED or FAILED', 'refundOutcomes');
    const outcomes = told as Record<string, unknown>;
    const unknown = this.state.refunds.filter((r) => r.status === 'UNKNOWN');
    for (const [refundId, outcome] of Object.entries(outcomes)) {
      if (!unknown.some((r) => r.refundId === refundId))
        invalid(
          `refundOutcomes names ${refundId}, which is not an UNKNOWN refund of this payment`,
          'refundOutcomes',
        );
      if (outcome !== 'SUCCEEDED' && outcome !== 'FAILED')
        invalid(
          `refund ${refundId}: outcome must be SUCCEEDED or FAILED (got ${String(outcome)})`,
          'refundOutcomes',
        );
    }
    const missing = unknown.filter((r) => !Object.keys(outcomes).includes(r.refundId));
    if (missing.length > 0) {
      invalid(
        `refundOutcomes must settle every UNKNOWN refund; missing: ${missing.map((r) => r.refundId).join(', ')}`,
        'refundOutcomes',
      );
    }
    // A full reversal REFUND that went through is a reversal: saying otherwise is a contradiction.
    const reversalRefunded = unknown.find(
      (r) => r.reversal && outcomes[r.refundId] === 'SUCCEEDED',
    );
    if (req.outcome === 'NOT_REVERSED' && this.reversalOpen && reversalRefunded)
      invalid(
        `NOT_REVERSED contradicts the reversal REFUND ${reversalRefunded.refundId} SUCCEEDED`,
        'outcome',
      );
  }

  private refreshAmounts(): void {
    const s = this.state;
    // Nothing is refundable once the payment is over (cancelled, refunded, closed, rejected).
    s.refundableMinor = this.isFinal ? 0 : Math.max(0, this.remainingMinor);
    if (s.currency) {
      s.paid = formatMinor(s.paidMinor, s.currency);
      s.refunded = formatMinor(s.refundedMinor, s.currency);
      s.refundable = formatMinor(s.refundableMinor, s.currency);
    }
  }
}

/** A request that is wrong whatever the state: the caller must fix `field`. */
function invalid(message: string, field?: string): never {
  throw new PaymentRequestRejected(message, { kind: 'INVALID', ...(field ? { field } : {}) });
}

/** A valid request that the payment's current state does not allow. */
function conflict(message: string, field?: string): never {
  throw new PaymentRequestRejected(message, { kind: 'CONFLICT', ...(field ? { field } : {}) });
}
