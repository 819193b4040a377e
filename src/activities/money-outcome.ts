import { Context, type Info } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { NON_RETRYABLE_ALIPAY_ERRORS } from '../alipay';
import { MONEY_REFUSED_FOR_SURE } from '../workflows/payment-types';
import type { MoneyCallOutcome } from './deps';

/**
 * How a failed CANCEL or REFUND attempt counts. Final when the failure is non-retryable (by its
 * class, `nonRetryable`, or the attempt's retry policy) or the policy's last attempt: then
 * `FAILED` if Alipay refused for sure, else `UNKNOWN`. `CANCELLED` when the activity was
 * cancelled, `RETRY` otherwise. A retry policy that ends by a schedule-to-close timeout (REFUND's
 * day) is invisible here: its last attempt counts as `RETRY`.
 */
export function failedAttemptOutcome(
  err: unknown,
  info: Pick<Info, 'attempt' | 'retryPolicy'>,
  cancelled: boolean,
): MoneyCallOutcome {
  if (cancelled) return 'CANCELLED';
  const type =
    (err instanceof ApplicationFailure ? err.type : (err as Error | undefined)?.name) ?? undefined;
  const nonRetryable =
    (err instanceof ApplicationFailure && err.nonRetryable === true) ||
    (type !== undefined &&
      (NON_RETRYABLE_ALIPAY_ERRORS.includes(type) ||
        (info.retryPolicy?.nonRetryableErrorTypes ?? []).includes(type)));
  const max = info.retryPolicy?.maximumAttempts;
  const lastAttempt = max !== undefined && max > 0 && info.attempt >= max;
  if (!nonRetryable && !lastAttempt) return 'RETRY';
  return type !== undefined && MONEY_REFUSED_FOR_SURE.includes(type) ? 'FAILED' : 'UNKNOWN';
}

/**
 * Runs one attempt of a money-moving activity and reports its {@link MoneyCallOutcome} to
 * `record` (when given). `record` cannot change the attempt's result.
 */
export async function countingOutcome<T>(
  record: ((outcome: MoneyCallOutcome) => void) | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (!record) return fn();
  let outcome: MoneyCallOutcome = 'SUCCEEDED';
  try {
    return await fn();
  } catch (err) {
    const ctx = Context.current();
    outcome = failedAttemptOutcome(err, ctx.info, ctx.cancellationSignal.aborted);
    throw err;
  } finally {
    try {
      record(outcome);
    } catch {
      // Counting is best effort; the attempt's result stands.
    }
  }
}
