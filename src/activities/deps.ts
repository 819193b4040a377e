import { ApplicationFailure } from '@temporalio/common';
import type { AlipayGateway } from '../alipay';

/**
 * What the activity factories receive from the worker: the configured gateway client and the
 * merchant-facing settings. Built once from the validated config (src/config.ts).
 */
export interface ActivityDeps {
  readonly gateway: AlipayGateway;
  /** The partner ID the gateway signs for; notifications for other partners are refused. */
  readonly partnerId: string;
  /** Call `notify_verify` while confirming a payment (MAPI.md §12.4). */
  readonly verifyNotifyIds: boolean;
  /** Optional merchant webhook for "payment confirmed", "payment reversed", "refund succeeded". */
  readonly merchantHook?: MerchantHookConfig;
  /** Where the money-moving activities count their outcomes (`EngineMetrics` fits). */
  readonly metrics?: ActivityMetrics;
}

/**
 * Outcome counters of the money-moving activities, one call per activity attempt. `outcome` is a
 * {@link MoneyCallOutcome}: `SUCCEEDED`; `FAILED` (final, Alipay refused or nothing was sent);
 * `UNKNOWN` (final, money may have moved); `RETRY` (this attempt failed, Temporal retries it);
 * `CANCELLED` (the workflow abandoned the call, e.g. CANCEL overtaken by midnight). The final
 * outcomes are what the PaymentWorkflow concludes from the same failure.
 */
export interface ActivityMetrics {
  /** A REFUND attempt ended; `kind` says whose refund it was. */
  refund(outcome: string, kind: 'merchant' | 'reversal'): void;
  /** A CANCEL attempt ended (an automatic reversal's or the merchant's cancel). */
  cancel(outcome: string): void;
}

/** How one CANCEL or REFUND attempt ended, as {@link ActivityMetrics} counts it. */
export type MoneyCallOutcome = 'SUCCEEDED' | 'FAILED' | 'UNKNOWN' | 'RETRY' | 'CANCELLED';

export interface MerchantHookConfig {
  readonly url: string;
  /** HMAC-SHA256 key for the `X-Engine-Signature` header. */
  readonly secret: string;
  readonly timeoutMs: number;
}

/**
 * Refuses, as a final failure of `failureType`, a call for a partner this worker does not sign
 * for: the gateway would sign it with the wrong key, and Alipay would refuse it anyway.
 */
export function ensureSignsFor(deps: ActivityDeps, partnerId: string, failureType: string): void {
  if (partnerId !== deps.partnerId) {
    throw ApplicationFailure.create({
      type: failureType,
      nonRetryable: true,
      message: `this worker signs for partner ${deps.partnerId}, not ${partnerId}`,
    });
  }
}
