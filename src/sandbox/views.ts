import { formatMinor } from '../money';
import { formatGmt8 } from '../time';
import type { QrCode } from './state/codes';
import type { FaultRule } from './faults';
import type { NotificationRecord } from './notifier';
import type { Refund, Trade, TradeStatus } from './state/trades';

/**
 * JSON shapes of the inspection endpoints and of `POST /sandbox/pay`. They use MAPI's field
 * names (this is Alipay's side of the wire) plus `*_minor` integers for exact assertions.
 */

const time = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : formatGmt8(ms);

/** A trade as the customer endpoint and `GET /sandbox/trades` show it. */
export interface TradeView {
  partner: string;
  trade_no: string;
  out_trade_no: string;
  qrcode: string;
  store_id: string;
  secondary_merchant_id: string;
  trade_status: TradeStatus;
  amount: string;
  amount_minor: number;
  currency: string;
  settlement_currency: string;
  refunded: string;
  refunded_minor: number;
  refundable_minor: number;
  buyer_id: string;
  buyer_login_id: string;
  gmt_create: string;
  gmt_payment: string | undefined;
  gmt_close: string | undefined;
  closed_by: string | undefined;
  cancel_action: string | undefined;
  refund_ids: string[];
  notify_ids: string[];
}

export function tradeView(trade: Trade, status: TradeStatus, notifyIds: string[]): TradeView {
  const currency = trade.amount.currency;
  return {
    partner: trade.partner,
    trade_no: trade.tradeNo,
    out_trade_no: trade.outTradeNo,
    qrcode: trade.qrcode,
    store_id: trade.storeId,
    secondary_merchant_id: trade.secondaryMerchantId,
    trade_status: status,
    amount: formatMinor(trade.amount.minor, currency),
    amount_minor: trade.amount.minor,
    currency,
    settlement_currency: trade.settlementCurrency,
    refunded: formatMinor(trade.refundedMinor, currency),
    refunded_minor: trade.refundedMinor,
    refundable_minor: status === 'TRADE_SUCCESS' ? trade.amount.minor - trade.refundedMinor : 0,
    buyer_id: trade.buyer.userId,
    buyer_login_id: trade.buyer.loginId,
    gmt_create: formatGmt8(trade.createdAt),
    gmt_payment: time(trade.paidAt),
    gmt_close: time(trade.closed?.at),
    closed_by: trade.closed?.by,
    cancel_action: trade.cancelAction,
    refund_ids: [...trade.refundIds],
    notify_ids: notifyIds,
  };
}

export function refundView(refund: Refund): Record<string, unknown> {
  return {
    partner: refund.partner,
    partner_refund_id: refund.partnerRefundId,
    partner_trans_id: refund.partnerTransId,
    alipay_trans_id: refund.tradeNo,
    refund_amount: formatMinor(refund.amount.minor, refund.amount.currency),
    refund_amount_minor: refund.amount.minor,
    currency: refund.amount.currency,
    refund_amount_cny: refund.cny,
    exchange_rate: refund.exchangeRate,
    refund_reason: refund.reason,
    gmt_refund: formatGmt8(refund.createdAt),
  };
}

export function codeView(code: QrCode): Record<string, unknown> {
  return {
    partner: code.partner,
    qrcode: code.qrcode,
    qrcode_img_url: code.imgUrl,
    status: code.status,
    notify_url: code.notifyUrl,
    secondary_merchant_id: code.data.secondaryMerchantId,
    store_id: code.data.storeId,
    store_name: code.data.storeName,
    trans_currency: code.data.transCurrency,
    currency: code.data.currency,
    channel_fee: code.data.channelFee,
    biz_data: code.data.raw,
    gmt_create: formatGmt8(code.createdAt),
    gmt_modified: formatGmt8(code.updatedAt),
    history: code.history.map((h) => ({ at: formatGmt8(h.at), action: h.action })),
  };
}

export function notificationView(n: NotificationRecord): Record<string, unknown> {
  return {
    notify_id: n.notifyId,
    partner: n.partner,
    trade_no: n.tradeNo,
    out_trade_no: n.outTradeNo,
    url: n.url,
    state: n.state,
    fault: n.fault,
    created: formatGmt8(n.createdAt),
    next_attempt: time(n.nextAttemptAt),
    deliveries: n.attempts.length,
    acknowledged: n.state === 'delivered',
    fields: n.fields,
    attempts: n.attempts.map((a) => ({ ...a, at: formatGmt8(a.at) })),
  };
}

export function faultView(rule: FaultRule): Record<string, unknown> {
  const target =
    rule.target.kind === 'service'
      ? rule.target.short
      : rule.target.kind === 'any'
        ? '*'
        : 'notification';
  return {
    id: rule.id,
    service: target,
    ...rule.fault,
    skip: rule.skip,
    times: rule.times,
    partner: rule.partner,
    seen: rule.seen,
    fired: rule.fired,
  };
}
