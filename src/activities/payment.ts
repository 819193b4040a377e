import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { CallOptions, TradeStatus } from '../alipay';
import type { Money } from '../money';
import { PAYMENT_PARTNER_MISMATCH } from '../workflows/payment-types';
import type { ActivityDeps } from './deps';
import { postMerchantEvent, type MerchantEvent } from './merchant-hook';

export type { MerchantEvent } from './merchant-hook';
export {
  MERCHANT_HOOK_REJECTED,
  MERCHANT_HOOK_UNAVAILABLE,
  signMerchantBody,
} from './merchant-hook';

export { PAYMENT_PARTNER_MISMATCH };

/** Which trade a payment activity is about. */
export interface PaymentRef {
  readonly partnerId: string;
  readonly outTradeNo: string;
  readonly tradeNo?: string;
}

/** `confirmPayment` input: the trade, and the notification to check with `notify_verify`. */
export interface ConfirmPaymentArgs extends PaymentRef {
  readonly notifyId?: string;
}

/** What Alipay says about a trade (QUERY), plus the `notify_verify` verdict when configured. */
export interface PaymentConfirmation {
  readonly status: TradeStatus;
  readonly amount: Money;
  readonly outTradeNo: string;
  readonly tradeNo?: string;
  /** Epoch ms. */
  readonly paidAt?: number;
  /** `notify_verify` answer; undefined when not configured or no notify ID was given. */
  readonly notifyVerified?: boolean;
}

/** `cancelPayment` answer: `close` (unpaid trade closed) or `refund` (payment reversed). */
export interface CancelOutcome {
  readonly action?: 'close' | 'refund';
}

/** `refundPayment` input. The `refundId` is the stable `partner_refund_id`: same on every retry. */
export interface RefundPaymentArgs extends PaymentRef {
  readonly refundId: string;
  readonly amount: Money;
  readonly reason?: string;
}

export interface RefundOutcome {
  readonly refundId: string;
  readonly amount: Money;
}

/** `notifyMerchant` answer. */
export interface MerchantHookOutcome {
  /** False when no merchant hook is configured (nothing was sent). */
  readonly delivered: boolean;
  readonly httpStatus?: number;
}

// Gateway calls can wait up to the read timeout; heartbeats keep the activity alive and let a
// cancellation (the workflow racing CANCEL against midnight) reach the call's abort signal.
const HEARTBEAT_EVERY_MS = 1000;

async function withHeartbeat<T>(fn: (call: CallOptions) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await fn({ signal: ctx.cancellationSignal });
  } finally {
    clearInterval(timer);
  }
}

/**
 * Gateway and merchant-hook activities of the PaymentWorkflow: thin adapters over
 * {@link ActivityDeps.gateway}. Gateway errors are thrown as they are: their class name (e.g.
 * `AlipaySystemError`) becomes the Temporal failure type, which the workflow's retry policies
 * classify with the one list of non-retryable classes (src/workflows/gateway-retry.ts).
 */
export function createPaymentActivities(deps: ActivityDeps) {
  function ensurePartner(partnerId: string): void {
    if (partnerId !== deps.partnerId) {
      throw ApplicationFailure.create({
        type: PAYMENT_PARTNER_MISMATCH,
        nonRetryable: true,
        message: `this worker signs for partner ${deps.partnerId}, not ${partnerId}`,
      });
    }
  }
  const ref = ({ outTradeNo, tradeNo }: PaymentRef) => ({
    outTradeNo,
    ...(tradeNo ? { tradeNo } : {}),
  });

  return {
    /** QUERY the trade (read-only, retry freely) and, when configured, `notify_verify` its notification. */
    async confirmPayment(args: ConfirmPaymentArgs): Promise<PaymentConfirmation> {
      ensurePartner(args.partnerId);
      return withHeartbeat(async (call) => {
        const trade = await deps.gateway.queryTrade(ref(args), call);
        const notifyVerified =
          deps.verifyNotifyIds && args.notifyId
            ? await deps.gateway.verifyNotifyId(args.notifyId, call)
            : undefined;
        return {
          status: trade.status,
          amount: trade.amount,
          outTradeNo: trade.outTradeNo,
          ...(trade.tradeNo ? { tradeNo: trade.tradeNo } : {}),
          ...(trade.paidAt !== undefined ? { paidAt: trade.paidAt } : {}),
          ...(notifyVerified !== undefined ? { notifyVerified } : {}),
        };
      });
    },

    /** CANCEL (same GMT+8 day). Targets one trade, so repeating it is safe. */
    async cancelPayment(args: PaymentRef): Promise<CancelOutcome> {
      ensurePartner(args.partnerId);
      const result = await withHeartbeat((call) => deps.gateway.cancelTrade(ref(args), call));
      return result.action ? { action: result.action } : {};
    },

    /** REFUND, synchronous. Retries send the same `refundId`, so Alipay refunds at most once. */
    async refundPayment(args: RefundPaymentArgs): Promise<RefundOutcome> {
      ensurePartner(args.partnerId);
      const result = await withHeartbeat((call) =>
        deps.gateway.refund(
          {
            ...ref(args),
            refundId: args.refundId,
            amount: args.amount,
            ...(args.reason ? { reason: args.reason } : {}),
          },
          call,
        ),
      );
      return { refundId: result.refundId, amount: result.amount };
    },

    /** Tells the merchant's webhook (when configured) what happened; a no-op otherwise. */
    async notifyMerchant(event: MerchantEvent): Promise<MerchantHookOutcome> {
      if (!deps.merchantHook) return { delivered: false };
      const hook = deps.merchantHook;
      const httpStatus = await withHeartbeat((call) => postMerchantEvent(hook, event, call.signal));
      return { delivered: true, httpStatus };
    },
  };
}

/** The payment activities as the workflow proxies them (types only). */
export type PaymentActivities = ReturnType<typeof createPaymentActivities>;
