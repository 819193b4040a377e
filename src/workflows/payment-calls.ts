import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  TimeoutFailure,
  patched,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type {
  AlipayFailureDetails,
  MerchantEvent,
  PaymentActivities,
  PaymentConfirmation,
  PaymentRef,
} from '../activities/payment';
import type { Money } from '../money';
import { gatewayRetryPolicy, NON_RETRYABLE_GATEWAY_ERRORS } from './gateway-retry';
import {
  MONEY_REFUSED_FOR_SURE,
  PAYMENT_PARTNER_MISMATCH,
  type RefundEntry,
} from './payment-types';

/**
 * The PaymentWorkflow's calls to its activities: timeouts, retry policies, summaries, and what a
 * final failure means for money. Workflow code (deterministic, no I/O).
 */

/**
 * How long one activity attempt may take, derived from the configured gateway and hook
 * timeouts by whoever starts the payment (recorded in its input): a gateway attempt covers
 * QUERY plus `notify_verify` (two HTTP calls, each connect + read), a hook attempt one POST.
 */
export interface CallTimeouts {
  gatewayMs: number;
  hookMs: number;
}

/** The timeouts of runs whose input carries none (the engine's defaults before they were derived). */
export const DEFAULT_CALL_TIMEOUTS: CallTimeouts = { gatewayMs: 30_000, hookMs: 30_000 };

// Gateway calls heartbeat every second (see src/activities/payment.ts): a dead worker is noticed
// in 10 s, and a cancellation (CANCEL racing midnight) reaches the HTTP call.
const gateway = (t: CallTimeouts): ActivityOptions => ({
  startToCloseTimeout: t.gatewayMs,
  heartbeatTimeout: '10s',
  retry: gatewayRetryPolicy([PAYMENT_PARTNER_MISMATCH]),
});

// QUERY: a handful of tries (about a minute of back-off) when there is no time to wait longer.
const confirmBriefly = (t: CallTimeouts): ActivityOptions => {
  const g = gateway(t);
  return { ...g, retry: { ...g.retry, maximumAttempts: 6 } };
};
// QUERY with patience: back-off up to 2 minutes between tries, until `untilMs` (epoch ms).
const confirmUntil = (t: CallTimeouts, untilMs: number): ActivityOptions => {
  const g = gateway(t);
  return {
    ...g,
    scheduleToCloseTimeout: untilMs - Date.now(),
    retry: { ...g.retry, maximumInterval: '2m' }, // no attempt limit: the deadline ends it
  };
};
// CANCEL retries without limit: the workflow's midnight timer is what ends it.
const cancelOptions = gateway;
// REFUND retries with the same refund ID until Alipay answers for good; after a day without an
// answer the outcome is UNKNOWN and an operator takes over.
const refundOptions = (t: CallTimeouts): ActivityOptions => ({
  ...gateway(t),
  scheduleToCloseTimeout: '1d',
});
// The merchant's webhook, as it was: a few tries; a hook that fails for good reversed a new payment.
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
// The merchant's webhook, durably: back-off up to 10 minutes, for `forMs` (12 hours unless a
// reverse-on-failure policy gives a shorter deadline). A merchant's deploy never refunds anyone.
const hookDurably = (t: CallTimeouts, forMs = 12 * 3600_000): ActivityOptions => ({
  startToCloseTimeout: t.hookMs,
  heartbeatTimeout: '10s',
  scheduleToCloseTimeout: forMs,
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '10m', // no attempt limit: the deadline ends it
  },
});

const acts = proxyActivities<PaymentActivities>(gateway(DEFAULT_CALL_TIMEOUTS));

/**
 * How long the first QUERY may take as a local activity: well inside the workflow task's 10 s
 * timeout (past 8 s the worker would have to extend the task, which costs history events).
 */
const LOCAL_QUERY_MS = 5_000;
// One attempt only: a retry belongs to the durable path, which backs off between tries.
const confirmLocallyOptions = (t: CallTimeouts): LocalActivityOptions => ({
  startToCloseTimeout: Math.min(t.gatewayMs, LOCAL_QUERY_MS),
  retry: { maximumAttempts: 1 },
});
const localActs = proxyLocalActivities<PaymentActivities>(
  confirmLocallyOptions(DEFAULT_CALL_TIMEOUTS),
);

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

/** Minimum time a confirmation gets, however late in the day the payment came. */
const MIN_PATIENCE_MS = 60_000;

/**
 * QUERY (+ `notify_verify`). With `patienceUntil` (epoch ms) Alipay's passing errors are retried
 * until then (a short blip must not reverse a real payment); without it, about a minute.
 */
export function confirmPayment(
  ref: PaymentRef,
  notifyId: string | undefined,
  t: CallTimeouts = DEFAULT_CALL_TIMEOUTS,
  patienceUntil?: number,
) {
  const options =
    patienceUntil !== undefined && patienceUntil - Date.now() > MIN_PATIENCE_MS
      ? confirmUntil(t, patienceUntil)
      : confirmBriefly(t);
  return acts.confirmPayment.executeWithOptions(
    { ...options, summary: `QUERY ${ref.outTradeNo}` },
    [{ ...ref, ...(notifyId ? { notifyId } : {}) }],
  );
}

/**
 * The first QUERY, made by the worker within the workflow task (a local activity): a quick
 * answer then costs Temporal no activity task (no schedule, no dispatch, no completion round
 * trip). Alipay's final answers (e.g. "no such trade") are thrown as the durable call would throw
 * them; a passing fault (transport, timeout, SYSTEM_ERROR) answers nothing, and the caller asks
 * again on the durable path with its back-off and patience.
 */
async function confirmLocally(
  ref: PaymentRef,
  notifyId: string | undefined,
  t: CallTimeouts,
): Promise<{ answered?: PaymentConfirmation }> {
  try {
    const answered = await localActs.confirmPayment.executeWithOptions(
      { ...confirmLocallyOptions(t), summary: `QUERY ${ref.outTradeNo}` },
      [{ ...ref, ...(notifyId ? { notifyId } : {}) }],
    );
    return { answered };
  } catch (err) {
    if (isCancellation(err) || isFinalGatewayAnswer(err)) throw err;
    return {};
  }
}

/** True when an activity failed with a class the gateway retry policy never retries. */
function isFinalGatewayAnswer(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure)) return false;
  if (cause.nonRetryable) return true;
  const type = cause.type ?? '';
  return NON_RETRYABLE_GATEWAY_ERRORS.includes(type) || type === PAYMENT_PARTNER_MISMATCH;
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
 * With `firstLocally` the first try is {@link confirmLocally}.
 */
export async function confirmPaymentPatiently(
  ref: PaymentRef,
  notifyId: string | undefined,
  onNotFound: (attempt: number, delayMs: number) => void,
  t: CallTimeouts = DEFAULT_CALL_TIMEOUTS,
  patienceUntil?: number,
  firstLocally = false,
): Promise<PaymentConfirmation> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (firstLocally && attempt === 1) {
        const local = await confirmLocally(ref, notifyId, t);
        if (local.answered) return local.answered;
      }
      return await confirmPayment(ref, notifyId, t, patienceUntil);
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

/** The merchant hook as older runs called it: a few tries (their histories replay with it). */
export function notifyMerchant(event: MerchantEvent) {
  return acts.notifyMerchant.executeWithOptions(
    { ...HOOK, summary: `merchant hook ${event.type}` },
    [event],
  );
}

/** The merchant hook, retried durably for `forMs` (default 12 hours). */
export function notifyMerchantDurably(event: MerchantEvent, t: CallTimeouts, forMs?: number) {
  return acts.notifyMerchant.executeWithOptions(
    { ...hookDurably(t, forMs), summary: `merchant hook ${event.type}` },
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
export async function refundPayment(
  ref: PaymentRef,
  entry: RefundEntry,
  t: CallTimeouts = DEFAULT_CALL_TIMEOUTS,
): Promise<MoneyOutcome> {
  const amount: Money = { minor: entry.amountMinor, currency: entry.currency };
  try {
    await acts.refundPayment.executeWithOptions(
      {
        ...refundOptions(t),
        summary: `REFUND ${entry.amount} ${entry.currency} (${entry.refundId})`,
      },
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
export async function cancelBeforeMidnight(
  ref: PaymentRef,
  deadline: number,
  t: CallTimeouts = DEFAULT_CALL_TIMEOUTS,
): Promise<CancelRace> {
  const left = deadline - Date.now();
  if (left <= 0) return { status: 'DAY_ENDED', failure: 'the GMT+8 transaction day had ended' };
  const timerScope = new CancellationScope();
  const cancelScope = new CancellationScope();
  const midnight = timerScope.run(() =>
    sleep(left, { summary: 'end of the GMT+8 transaction day' }),
  );
  const cancel = cancelScope.run(() =>
    acts.cancelPayment.executeWithOptions(
      { ...cancelOptions(t), summary: `CANCEL ${ref.outTradeNo}` },
      [ref],
    ),
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
export async function tradeIsClosed(
  ref: PaymentRef,
  t: CallTimeouts = DEFAULT_CALL_TIMEOUTS,
): Promise<boolean | undefined> {
  try {
    const trade = await acts.confirmPayment.executeWithOptions(
      { ...confirmBriefly(t), summary: `QUERY ${ref.outTradeNo} after reversal` },
      [ref],
    );
    return trade.status === 'TRADE_CLOSED';
  } catch {
    return undefined;
  }
}
