import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  patched,
  proxyActivities,
  sleep,
  type ActivityOptions,
} from '@temporalio/workflow';
import type {
  AlipayFailureDetails,
  MerchantEvent,
  PaymentActivities,
  PaymentConfirmation,
  PaymentRef,
} from '../activities/payment';
import type { Money } from '../money';
import { gatewayRetryPolicy } from './gateway-retry';
import {
  MONEY_REFUSED_FOR_SURE,
  PAYMENT_PARTNER_MISMATCH,
  type RefundEntry,
} from './payment-types';

/**
 * The PaymentWorkflow's calls to its activities: timeouts, retry policies, summaries, and what a
 * final failure means for money. Workflow code (deterministic, no I/O).
 */

// Gateway calls heartbeat every second (see src/activities/payment.ts): a dead worker is noticed
// in 10 s, and a cancellation (CANCEL racing midnight) reaches the HTTP call.
const GATEWAY: ActivityOptions = {
  startToCloseTimeout: '30s',
  heartbeatTimeout: '10s',
  retry: gatewayRetryPolicy([PAYMENT_PARTNER_MISMATCH]),
};

// QUERY: a handful of tries (about a minute of back-off) before the confirmation counts as
// inconclusive and the payment is reversed.
const CONFIRM: ActivityOptions = { ...GATEWAY, retry: { ...GATEWAY.retry, maximumAttempts: 6 } };
// CANCEL retries without limit: the workflow's midnight timer is what ends it.
const CANCEL: ActivityOptions = GATEWAY;
// REFUND retries with the same refund ID until Alipay answers for good; after a day without an
// answer the outcome is UNKNOWN and an operator takes over.
const REFUND: ActivityOptions = { ...GATEWAY, scheduleToCloseTimeout: '1d' };
// The merchant's webhook: a few tries; a hook that fails for good reverses a new payment.
const HOOK: ActivityOptions = {
  startToCloseTimeout: '30s',
  heartbeatTimeout: '10s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 5,
  },
};

const acts = proxyActivities<PaymentActivities>(GATEWAY);

/** The failure type and a one-line reason of an activity failure. */
export function describeFailure(err: unknown): { type: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure)
    return { type: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof TimeoutFailure)
    return { type: 'Timeout', message: `timed out (${cause.timeoutType})` };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(cause) };
}

export function confirmPayment(ref: PaymentRef, notifyId: string | undefined) {
  return acts.confirmPayment.executeWithOptions(
    { ...CONFIRM, summary: `QUERY ${ref.outTradeNo}` },
    [{ ...ref, ...(notifyId ? { notifyId } : {}) }],
  );
}

/** Patch of {@link confirmPaymentPatiently}: before it, "trade not found" was final at once. */
export const QUERY_NOT_FOUND_RETRY_PATCH = 'query-not-found-retry';

/**
 * Waits before each extra QUERY of a trade Alipay says it does not know: three more tries over
 * about a minute (durable timers), then "not found" is final.
 */
export const NOT_FOUND_RETRY_DELAYS_MS: readonly number[] = [10_000, 20_000, 30_000];

/** Alipay's "no such trade" codes (MAPI.md §13.1, §13.2): final, unless the trade is very new. */
const TRADE_NOT_FOUND_CODES: readonly string[] = [
  'TRADE_NOT_EXIST',
  'TRANS_NOT_FOUND',
  'PURCHASE_TRADE_NOT_EXIST',
];

/** True when an activity failed because Alipay answered that the trade does not exist. */
export function isTradeNotFound(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure)) return false;
  if (cause.type !== 'AlipayBusinessError' && cause.type !== 'AlipayGatewayError') return false;
  const code = (cause.details?.[0] as AlipayFailureDetails | undefined)?.alipayCode;
  return code !== undefined && TRADE_NOT_FOUND_CODES.includes(code);
}

/**
 * QUERY to confirm a notified payment. "Not found" shortly after a notification can be
 * transient (MAPI.md §9.5), so that answer is asked again after each of
 * {@link NOT_FOUND_RETRY_DELAYS_MS}; any other failure is final at once (the activity's retry
 * policy has already retried what may be retried). `onNotFound` is told before each wait.
 */
export async function confirmPaymentPatiently(
  ref: PaymentRef,
  notifyId: string | undefined,
  onNotFound: (attempt: number, delayMs: number) => void,
): Promise<PaymentConfirmation> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await confirmPayment(ref, notifyId);
    } catch (err) {
      const delayMs = NOT_FOUND_RETRY_DELAYS_MS[attempt - 1];
      // patched() is asked last, only on a "not found" answer: histories recorded before the
      // patch (which reversed at once) replay unchanged, and other histories carry no marker.
      if (delayMs === undefined || !isTradeNotFound(err) || !patched(QUERY_NOT_FOUND_RETRY_PATCH))
        throw err;
      onNotFound(attempt, delayMs);
      await sleep(delayMs, { summary: `QUERY ${ref.outTradeNo} again: trade not found yet` });
    }
  }
}

export function notifyMerchant(event: MerchantEvent) {
  return acts.notifyMerchant.executeWithOptions(
    { ...HOOK, summary: `merchant hook ${event.type}` },
    [event],
  );
}

/** What a REFUND ended with. */
export type MoneyOutcome =
  { status: 'SUCCEEDED' } | { status: 'FAILED' | 'UNKNOWN'; failure: string };

/**
 * REFUND of one ledger entry with its stable `partner_refund_id` (the entry's gateway ID, else its
 * refund ID), the same on every retry.
 */
export async function refundPayment(ref: PaymentRef, entry: RefundEntry): Promise<MoneyOutcome> {
  const amount: Money = { minor: entry.amountMinor, currency: entry.currency };
  try {
    await acts.refundPayment.executeWithOptions(
      { ...REFUND, summary: `REFUND ${entry.amount} ${entry.currency} (${entry.refundId})` },
      [
        {
          ...ref,
          refundId: entry.gatewayRefundId ?? entry.refundId,
          amount,
          ...(entry.reason ? { reason: entry.reason } : {}),
          // Only labels the activity's metrics; activity inputs are not compared on replay.
          ...(entry.reversal ? { reversal: true } : {}),
        },
      ],
    );
    return { status: 'SUCCEEDED' };
  } catch (err) {
    const { type, message } = describeFailure(err);
    return {
      status: MONEY_REFUSED_FOR_SURE.includes(type) ? 'FAILED' : 'UNKNOWN',
      failure: `${type}: ${message}`,
    };
  }
}

/** How a CANCEL raced against the end of the transaction day ended. */
export type CancelRace =
  | { status: 'CANCELLED'; action?: 'close' | 'refund' }
  | { status: 'REFUSED' | 'UNKNOWN' | 'DAY_ENDED'; failure: string };

/**
 * CANCEL while the GMT+8 transaction day lasts. A durable timer races the activity (and its
 * retries, e.g. `retry_flag=Y`): if midnight comes first the CANCEL is abandoned and the caller
 * must switch to REFUND, checking first whether a CANCEL in flight went through after all.
 */
export async function cancelBeforeMidnight(ref: PaymentRef, deadline: number): Promise<CancelRace> {
  const left = deadline - Date.now();
  if (left <= 0) return { status: 'DAY_ENDED', failure: 'the GMT+8 transaction day had ended' };
  const timerScope = new CancellationScope();
  const cancelScope = new CancellationScope();
  const midnight = timerScope.run(() =>
    sleep(left, { summary: 'end of the GMT+8 transaction day' }),
  );
  const cancel = cancelScope.run(() =>
    acts.cancelPayment.executeWithOptions({ ...CANCEL, summary: `CANCEL ${ref.outTradeNo}` }, [
      ref,
    ]),
  );
  const winner = await Promise.race([
    cancel.then(
      (outcome) => ({
        status: 'CANCELLED' as const,
        ...(outcome.action ? { action: outcome.action } : {}),
      }),
      (err: unknown) => {
        const { type, message } = describeFailure(err);
        const status = MONEY_REFUSED_FOR_SURE.includes(type)
          ? ('REFUSED' as const)
          : ('UNKNOWN' as const);
        return { status, failure: `${type}: ${message}` };
      },
    ),
    midnight.then(() => ({
      status: 'DAY_ENDED' as const,
      failure: 'CANCEL did not succeed before midnight',
    })),
  ]);
  // Whichever lost is cancelled, and its rejection observed, so nothing is left pending.
  if (winner.status === 'DAY_ENDED') {
    cancelScope.cancel();
    await cancel.catch(() => undefined);
  } else {
    timerScope.cancel();
    await midnight.catch(() => undefined);
  }
  return winner;
}

/** QUERY after an ambiguous reversal: true when Alipay reports the trade closed (cancelled or fully refunded). */
export async function tradeIsClosed(ref: PaymentRef): Promise<boolean | undefined> {
  try {
    const trade = await acts.confirmPayment.executeWithOptions(
      { ...CONFIRM, summary: `QUERY ${ref.outTradeNo} after reversal` },
      [ref],
    );
    return trade.status === 'TRADE_CLOSED';
  } catch {
    return undefined;
  }
}
