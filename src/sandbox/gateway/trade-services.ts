import { formatMinor, InvalidMoneyError, parseMoney, type Money } from '../../money';
import { formatGmt8 } from '../../time';
import { GatewayRejection, MapiError } from '../refusals';
import { cnyEquivalent, convert } from '../state/rates';
import { limitLength, requireOneOf } from './checks';
import type { ServiceContext, ServiceResult } from './service';

/**
 * QUERY, CANCEL and REFUND (MAPI.md §9–11), answered in a `<response><alipay>` node with the
 * fields real answers carry.
 */

type Params = Readonly<Record<string, string>>;
const compactGmt8 = (ms: number): string => formatGmt8(ms).replace(/[-: ]/g, '');
const pick = (params: Params, names: string[]): Record<string, string> =>
  Object.fromEntries(names.filter((n) => params[n]).map((n) => [n, params[n] as string]));

/** QUERY: `alipay_trans_id` is looked up first when both IDs are given (MAPI.md §9.1). */
export function query(ctx: ServiceContext): ServiceResult {
  const { params, core, now } = ctx;
  if (!params.partner_trans_id && !params.alipay_trans_id) {
    throw new GatewayRejection(
      MapiError.ILLEGAL_ARGUMENT,
      'give partner_trans_id or alipay_trans_id',
    );
  }
  const trade = core.trades.find(ctx.partner, {
    tradeNo: params.alipay_trans_id,
    outTradeNo: params.partner_trans_id,
  });
  if (!trade)
    return {
      node: 'alipay',
      fields: { ...queryEcho(params), result_code: 'FAIL', error: MapiError.TRADE_NOT_EXIST },
    };
  const { exchangeRate, cny } = cnyEquivalent(trade.amount);
  const forex = convert(trade.amount, trade.settlementCurrency);
  const fields: Record<string, string> = {
    alipay_buyer_login_id: trade.buyer.loginId,
    alipay_buyer_user_id: trade.buyer.userId,
    alipay_trans_id: trade.tradeNo,
    alipay_trans_status: core.trades.status(trade, now),
    currency: trade.amount.currency,
    exchange_rate: exchangeRate,
    forex_total_fee: formatMinor(forex.minor, trade.settlementCurrency),
    out_trade_no: trade.outTradeNo,
    partner_trans_id: trade.outTradeNo,
    result_code: 'SUCCESS',
    trans_amount: formatMinor(trade.amount.minor, trade.amount.currency),
    trans_amount_cny: cny,
    trans_forex_rate: forex.rate,
  };
  if (trade.paidAt !== undefined) fields.alipay_pay_time = compactGmt8(trade.paidAt);
  return { node: 'alipay', fields };
}

export function queryEcho(params: Params): Record<string, string> {
  return pick(params, ['partner_trans_id', 'alipay_trans_id']);
}

/** CANCEL: `trade_no` wins over `out_trade_no` when both are given (MAPI.md §10.2). */
export function cancel(ctx: ServiceContext): ServiceResult {
  limitLength(ctx.params, 'out_trade_no', 64);
  limitLength(ctx.params, 'trade_no', 64);
  const { trade, action } = ctx.core.trades.cancel(
    ctx.partner,
    { tradeNo: ctx.params.trade_no, outTradeNo: ctx.params.out_trade_no },
    ctx.now,
  );
  return {
    node: 'alipay',
    fields: {
      action,
      out_trade_no: trade.outTradeNo,
      result_code: 'SUCCESS',
      retry_flag: 'N',
      trade_no: trade.tradeNo,
    },
  };
}

export function cancelEcho(params: Params): Record<string, string> {
  return pick(params, ['out_trade_no', 'trade_no']);
}

function refundAmount(params: Params): Money {
  const currency = params.currency as string;
  let amount: Money;
  try {
    amount = parseMoney(params.refund_amount as string, currency);
  } catch (e) {
    if (e instanceof InvalidMoneyError)
      throw new GatewayRejection(MapiError.ILLEGAL_ARGUMENT, e.message);
    throw e;
  }
  if (amount.minor === 0)
    throw new GatewayRejection(MapiError.ILLEGAL_ARGUMENT, 'refund_amount must be positive');
  return amount;
}

/**
 * REFUND. `is_sync` is accepted but both modes answer the final result synchronously: the
 * asynchronous refund notification of `is_sync=N` is not modelled.
 */
export function refund(ctx: ServiceContext): ServiceResult {
  const { params } = ctx;
  for (const name of ['partner_trans_id', 'alipay_trans_id', 'partner_refund_id'])
    limitLength(params, name, 64);
  limitLength(params, 'notify_url', 200);
  const reason = params.refund_reason || params.refund_reson || undefined;
  if (reason !== undefined && reason.length > 128)
    throw new GatewayRejection(MapiError.ILLEGAL_ARGUMENT, 'refund_reason is longer than 128');
  if (params.is_sync !== undefined && params.is_sync !== '')
    requireOneOf(params, 'is_sync', ['Y', 'N']);
  if (params.partner_refund_id === params.partner_trans_id) {
    throw new GatewayRejection(
      MapiError.ILLEGAL_ARGUMENT,
      'partner_refund_id must differ from partner_trans_id',
    );
  }
  const result = ctx.core.trades.refund(
    ctx.partner,
    {
      partnerTransId: params.partner_trans_id as string,
      alipayTransId: params.alipay_trans_id || undefined,
      partnerRefundId: params.partner_refund_id as string,
      amount: refundAmount(params),
      reason,
    },
    ctx.now,
  );
  const r = result.refund;
  return {
    node: 'alipay',
    fields: {
      alipay_trans_id: r.tradeNo,
      currency: r.amount.currency,
      exchange_rate: r.exchangeRate,
      partner_refund_id: r.partnerRefundId,
      partner_trans_id: r.partnerTransId,
      refund_amount: formatMinor(r.amount.minor, r.amount.currency),
      refund_amount_cny: r.cny,
      result_code: 'SUCCESS',
    },
  };
}

export function refundEcho(params: Params): Record<string, string> {
  return pick(params, ['partner_refund_id', 'partner_trans_id']);
}
