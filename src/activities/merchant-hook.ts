import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { request } from 'undici';
import type { MerchantHookConfig } from './deps';

/** What the merchant's webhook receives (JSON body). Amounts as decimal strings and minor units. */
export interface MerchantEvent {
  type: 'payment.confirmed' | 'payment.reversed' | 'refund.succeeded';
  /** Stable across retries: the merchant dedupes on it. */
  eventId: string;
  partnerId: string;
  outTradeNo: string;
  tradeNo?: string;
  currency: string;
  amount: string;
  amountMinor: number;
  refundId?: string;
  /** `CANCEL` or `REFUND` for `payment.reversed`. */
  method?: string;
  reason?: string;
  /** Epoch ms (workflow clock) of the fact reported. */
  at: number;
}

/** Failure type: the merchant answered 4xx (other than 408/429). Final. */
export const MERCHANT_HOOK_REJECTED = 'MerchantHookRejected';
/** Failure type: no answer, or 5xx/408/429. Retried. */
export const MERCHANT_HOOK_UNAVAILABLE = 'MerchantHookUnavailable';

/** `X-Engine-Signature` value: `sha256=` + hex HMAC-SHA256 of `timestamp + "." + body`. */
export function signMerchantBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * POSTs one event to the configured merchant URL, signed like Stripe webhooks (timestamp +
 * body, so a replayed body with an old timestamp can be refused). Throws
 * {@link MERCHANT_HOOK_REJECTED} (final) or {@link MERCHANT_HOOK_UNAVAILABLE} (retryable).
 */
export async function postMerchantEvent(
  config: MerchantHookConfig,
  event: MerchantEvent,
  signal?: AbortSignal,
): Promise<number> {
  const body = JSON.stringify(event);
  const timestamp = String(Math.floor(Date.now() / 1000));
  let status: number;
  try {
    const res = await request(config.url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-engine-event-id': event.eventId,
        'x-engine-timestamp': timestamp,
        'x-engine-signature': signMerchantBody(config.secret, timestamp, body),
      },
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
      ...(signal ? { signal } : {}),
    });
    status = res.statusCode;
    await res.body.dump();
  } catch (err) {
    throw ApplicationFailure.create({
      type: MERCHANT_HOOK_UNAVAILABLE,
      message: `merchant hook unreachable: ${err instanceof Error ? err.message : String(err)}`,
    });
  }
  if (status >= 200 && status < 300) return status;
  const retryable = status >= 500 || status === 408 || status === 429;
  throw ApplicationFailure.create({
    type: retryable ? MERCHANT_HOOK_UNAVAILABLE : MERCHANT_HOOK_REJECTED,
    nonRetryable: !retryable,
    message: `merchant hook answered HTTP ${status} for ${event.type} ${event.eventId}`,
  });
}
