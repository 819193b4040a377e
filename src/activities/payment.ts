import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { AlipayServiceError, type CallOptions, type TradeStatus } from '../alipay';
import type { Money } from '../money';
import { PAYMENT_PARTNER_MISMATCH } from '../workflows/payment-types';
import { ensureSignsFor, type ActivityDeps } from './deps';
import { postMerchantEvent, type MerchantEvent } from './merchant-hook';
import { countingOutcome } from './money-outcome';

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
  /** True for the full refund of an automatic reversal (the ledger entry's flag); metrics only. */
  readonly reversal?: boolean;
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

/**
 * The `details[0]` of a gateway activity's failure: what the workflow may branch on besides the
 * failure type (e.g. QUERY's "trade not found", transient right after a notification).
 */
export interface AlipayFailureDetails {
  /** Alipay's code (`TRADE_NOT_EXIST`, `SYSTEM_ERROR`, …) when the gateway gave one. */
  readonly alipayCode?: string;
  /** True when a money-moving call may have moved money although no final answer was read. */
  readonly outcomeUnknown: boolean;
}

/**
 * A gateway error as the activity throws it: an `ApplicationFailure` of the SAME type (the
 * error's class name, which the retry policies classify) and message, plus
 * {@link AlipayFailureDetails}. Retryability is left to the workflow's retry policy. Anything
 * else is returned unchanged.
 */
export function asActivityFailure(err: unknown): unknown {
  if (!(err instanceof AlipayServiceError)) return err;
  const details: AlipayFailureDetails = {
    ...(err.alipayCode !== undefined ? { alipayCode: err.alipayCode } : {}),
    outcomeUnknown: err.outcomeUnknown,
  };
  return ApplicationFailure.create({
    type: err.name,
    message: err.message,
    details: [details],
    cause: err,
  });
}

// Gateway calls can wait up to the read timeout; heartbeats keep the activity alive and let a
// cancellation (the workflow racing CANCEL against midnight) reach the call's abort signal.
const HEARTBEAT_EVERY_MS = 1000;

async function withHeartbeat<T>(fn: (call: CallOptions) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  // A local activity has no heartbeat (its workflow task is its lease); cancellation still works.
  const timer = ctx.info.isLocal
    ? undefined
    : setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await fn({ signal: ctx.cancellationSignal });
  } catch (err) {
    throw asActivityFailure(err);
  } finally {
    clearInterval(timer);
  }
}

/**
 * Gateway and merchant-hook activities of the PaymentWorkflow: thin adapters over
 * {@link ActivityDeps.gateway}. Gateway errors keep their class name (e.g. `AlipaySystemError`)
 * as the Temporal failure type, which the workflow's retry policies classify with the one list
 * of non-retryable classes (src/workflows/gateway-retry.ts); {@link asActivityFailure} adds
 * Alipay's code as failure details.
 */
export function createPaymentActivities(deps: ActivityDeps) {
  const ensurePartner = (partnerId: string): void =>
    ensureSignsFor(deps, partnerId, PAYMENT_PARTNER_MISMATCH);
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
      const metrics = deps.metrics;
      return countingOutcome(metrics && ((outcome) => metrics.cancel(outcome)), async () => {
        ensurePartner(args.partnerId);
        const result = await withHeartbeat((call) => deps.gateway.cancelTrade(ref(args), call));
        return result.action ? { action: result.action } : {};
      });
    },

    /** REFUND, synchronous. Retries send the same `refundId`, so Alipay refunds at most once. */
    async refundPayment(args: RefundPaymentArgs): Promise<RefundOutcome> {
      const metrics = deps.metrics;
      const kind = args.reversal === true ? 'reversal' : 'merchant';
      return countingOutcome(metrics && ((outcome) => metrics.refund(outcome, kind)), async () => {
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
      });
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
