import { currencyExponent, formatMoney, InvalidMoneyError, parseMoney, type Money } from '../money';
import { parseCompactGmt8, parseGmt8 } from '../time';
import type { Charset } from './charset';
import { AlipayResponseError, AlipayUnknownCodeError, type AlipayErrorContext } from './errors';
import type { FormFields } from './form';
import type { SignType } from './signing';
import {
  TRADE_STATUSES,
  type CancelResult,
  type PaymentNotification,
  type QrCodeInput,
  type QrCodeResult,
  type RefundInput,
  type RefundResult,
  type TradeQueryResult,
  type TradeRef,
  type TradeStatus,
} from './types';

/**
 * The mapping between MAPI field names and domain types, both ways: with `binding.ts` (which
 * matches answers to their requests first), the only place that knows `trans_amount`,
 * `alipay_trans_status`, `partner_refund_id`, … (STYLE.md lesson 2).
 */

type Fields = Readonly<Record<string, string | undefined>>;

/** A non-empty field value, or undefined. */
function opt(fields: Fields, name: string): string | undefined {
  const v = fields[name];
  return v === undefined || v === '' ? undefined : v;
}

/**
 * Parses an amount Alipay sent. Tolerant of superfluous zero decimals ([S]: QUERY's
 * `trans_amount` is documented as "2 decimals", which for JPY would be `100.00`), strict about
 * everything else: `100.50` JPY is refused, never rounded.
 */
export function parseAlipayAmount(value: string, currency: string): Money {
  const exponent = currencyExponent(currency);
  const dot = value.indexOf('.');
  if (exponent !== undefined && dot !== -1 && value.length - dot - 1 > exponent) {
    const extra = value.slice(dot + 1 + exponent);
    if (/^0+$/.test(extra))
      value = exponent === 0 ? value.slice(0, dot) : value.slice(0, dot + 1 + exponent);
  }
  return parseMoney(value, currency);
}

function tryAmount(value: string | undefined, currency: string | undefined): Money | undefined {
  if (value === undefined || currency === undefined) return undefined;
  try {
    return parseAlipayAmount(value, currency);
  } catch {
    return undefined;
  }
}

function tryTime(value: string | undefined, compactToo = false): number | undefined {
  if (value === undefined) return undefined;
  try {
    return compactToo && /^\d{14}$/.test(value) ? parseCompactGmt8(value) : parseGmt8(value);
  } catch {
    return undefined;
  }
}

/** A copy of `o` without its undefined members (absent fields stay absent in JSON and `in`). */
function definedOnly<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const k in o) {
    const v = o[k];
    if (v !== undefined) out[k] = v;
  }
  return out as T;
}

/** Maps a verified notification form to the domain (MAPI.md §12.3 fields that are present). */
export function notificationFromFields(
  fields: FormFields,
  charset: Charset,
  signType: SignType,
  notifyId: string,
): PaymentNotification {
  const status = opt(fields, 'trade_status');
  const currency = opt(fields, 'currency');
  const totalFee = opt(fields, 'total_fee');
  const pricingCurrency = opt(fields, 'trans_currency');
  const pricingAmount = opt(fields, 'trans_amount');
  return definedOnly({
    rawFields: Object.freeze({ ...fields }),
    charset,
    signType,
    notifyId,
    notifyType: opt(fields, 'notify_type'),
    notifyTime: tryTime(opt(fields, 'notify_time')),
    tradeStatus:
      status === undefined
        ? undefined
        : (TRADE_STATUSES as readonly string[]).includes(status)
          ? (status as TradeStatus)
          : ('UNRECOGNISED' as const),
    tradeNo: opt(fields, 'trade_no'),
    outTradeNo: opt(fields, 'out_trade_no'),
    totalFee,
    currency,
    amount: tryAmount(totalFee, currency),
    pricingAmount,
    pricingCurrency,
    pricingMoney: tryAmount(pricingAmount, pricingCurrency),
    forexTotalFee: opt(fields, 'forex_total_fee'),
    forexRate: opt(fields, 'forex_rate'),
    buyerId: opt(fields, 'buyer_id'),
    buyerLoginId: opt(fields, 'buyer_login_id') ?? opt(fields, 'buyer_email'),
    createdAt: tryTime(opt(fields, 'gmt_create')),
    paidAt: tryTime(opt(fields, 'gmt_payment')),
    sellerId: opt(fields, 'seller_id'),
    partner: opt(fields, 'partner'),
    qrcode: opt(fields, 'qrcode'),
    storeId: opt(fields, 'store_id'),
    secondaryMerchantId: opt(fields, 'secondary_merchant_id'),
    passbackParameters: opt(fields, 'passback_parameters') ?? opt(fields, 'extra_common_param'),
    subject: opt(fields, 'subject'),
    body: opt(fields, 'body'),
    memo: opt(fields, 'memo'),
  });
}

/**
 * `biz_data` of CREATE / MODIFY as the exact JSON string to sign and send (MAPI.md §6.2). Key
 * order is fixed (the reference vector's order first), so the same input always yields the same
 * bytes; `channel_fee` and `passback_parameters` are nested flat objects.
 */
export function qrCodeBizData(input: QrCodeInput): string {
  const biz: Record<string, unknown> = {
    secondary_merchant_id: input.secondaryMerchantId,
    secondary_merchant_name: input.secondaryMerchantName,
    secondary_merchant_industry: input.merchantCategoryCode,
    store_id: input.storeId,
    store_name: input.storeName,
    trans_currency: input.pricingCurrency,
    currency: input.settlementCurrency,
    sys_service_provider_id: input.serviceProviderId,
    channel_fee: input.channelFee && {
      type: input.channelFee.type,
      value:
        input.channelFee.type === 'FIXED'
          ? formatMoney(input.channelFee.amount)
          : input.channelFee.rate,
    },
    country_code: input.countryCode,
    address: input.address,
    passback_parameters: input.passback && { ...input.passback },
    notify_mobile: input.notifyMobile,
    notify_wangwang: input.notifyWangwang,
    notify_alipay_account: input.notifyAlipayAccount,
    taxi_operation_id: input.taxi?.operationId,
    taxi_number: input.taxi?.number,
    taxi_driver_name: input.taxi?.driverName,
    taxi_driver_mobile: input.taxi?.driverMobile,
    is_show_memo: input.showMemo === undefined ? undefined : String(input.showMemo),
    notify_sign_type: input.notificationSignType,
    notify_charset: input.notificationCharset,
  };
  return JSON.stringify(biz); // undefined members are omitted by JSON.stringify
}

/** Business parameters of QUERY. */
export function queryFields(ref: TradeRef): Record<string, string | undefined> {
  return { partner_trans_id: ref.outTradeNo, alipay_trans_id: ref.tradeNo };
}

/** Business parameters of CANCEL (without `timestamp`). */
export function cancelFields(ref: TradeRef): Record<string, string | undefined> {
  return { out_trade_no: ref.outTradeNo, trade_no: ref.tradeNo };
}

/** Business parameters of REFUND; `reasonField` is `refund_reson` on hkapi accounts. */
export function refundFields(
  input: RefundInput,
  reasonField: 'refund_reason' | 'refund_reson',
): Record<string, string | undefined> {
  return {
    partner_trans_id: input.outTradeNo,
    alipay_trans_id: input.tradeNo,
    partner_refund_id: input.refundId,
    refund_amount: formatMoney(input.amount),
    currency: input.amount.currency,
    [reasonField]: input.reason,
    is_sync: 'Y',
  };
}

function required(fields: Fields, name: string, ctx: AlipayErrorContext): string {
  const v = opt(fields, name);
  if (v === undefined) throw new AlipayResponseError(`answer lacks ${name}`, ctx);
  return v;
}

function money(value: string, currency: string, name: string, ctx: AlipayErrorContext): Money {
  try {
    return parseAlipayAmount(value, currency);
  } catch (err) {
    if (err instanceof InvalidMoneyError && err.reason === 'UNSUPPORTED_CURRENCY') {
      throw new AlipayUnknownCodeError(`unsupported currency in ${name}`, {
        ...ctx,
        alipayCode: currency.slice(0, 16),
      });
    }
    throw new AlipayResponseError(`unreadable amount in ${name}`, ctx);
  }
}

/**
 * CREATE / MODIFY business node -> result. `sentQrcode` is MODIFY's target. Whether the answer
 * belongs to the request (IDs, amounts, service) is checked before, in `binding.ts`.
 */
export function qrCodeResultFrom(
  fields: Fields,
  sentQrcode: string | undefined,
  ctx: AlipayErrorContext,
): QrCodeResult {
  const qrcode = opt(fields, 'qrcode') ?? sentQrcode;
  if (qrcode === undefined) throw new AlipayResponseError('answer lacks qrcode', ctx);
  return definedOnly({ qrcode, imageUrl: opt(fields, 'qrcode_img_url') });
}

/** QUERY business node -> result (status, amount and currency taken from Alipay). */
export function tradeQueryFrom(
  fields: Fields,
  sent: TradeRef,
  ctx: AlipayErrorContext,
): TradeQueryResult {
  const status = required(fields, 'alipay_trans_status', ctx);
  if (!(TRADE_STATUSES as readonly string[]).includes(status)) {
    throw new AlipayUnknownCodeError('unrecognised trade status', {
      ...ctx,
      alipayCode: status.slice(0, 48),
    });
  }
  const currency = required(fields, 'currency', ctx);
  const amountCny = opt(fields, 'trans_amount_cny');
  return definedOnly({
    status: status as TradeStatus,
    amount: money(required(fields, 'trans_amount', ctx), currency, 'trans_amount', ctx),
    outTradeNo: sent.outTradeNo,
    tradeNo: opt(fields, 'alipay_trans_id') ?? sent.tradeNo,
    paidAt: tryTime(opt(fields, 'alipay_pay_time'), true),
    buyer: definedOnly({
      loginId: opt(fields, 'alipay_buyer_login_id'),
      userId: opt(fields, 'alipay_buyer_user_id'),
    }),
    exchangeRate: opt(fields, 'exchange_rate'),
    amountCny:
      amountCny === undefined ? undefined : money(amountCny, 'CNY', 'trans_amount_cny', ctx),
    forexTotalFee: opt(fields, 'forex_total_fee'),
    forexRate: opt(fields, 'trans_forex_rate'),
    discountForexAmount: opt(fields, 'm_discount_forex_amount'),
    paymentInstitution: opt(fields, 'payment_inst'),
  });
}

/** CANCEL business node (SUCCESS) -> result. */
export function cancelResultFrom(
  fields: Fields,
  sent: TradeRef,
  ctx: AlipayErrorContext,
): CancelResult {
  const action = opt(fields, 'action');
  if (action !== undefined && action !== 'close' && action !== 'refund') {
    throw new AlipayUnknownCodeError('unrecognised cancel action', {
      ...ctx,
      alipayCode: action.slice(0, 48),
    });
  }
  return definedOnly({
    action,
    outTradeNo: sent.outTradeNo,
    tradeNo: opt(fields, 'trade_no') ?? sent.tradeNo,
  });
}

/** REFUND business node (SUCCESS, its IDs and amount already matched) -> result. */
export function refundResultFrom(
  fields: Fields,
  sent: RefundInput,
  ctx: AlipayErrorContext,
): RefundResult {
  const cny = opt(fields, 'refund_amount_cny');
  return definedOnly({
    refundId: sent.refundId,
    outTradeNo: sent.outTradeNo,
    tradeNo: opt(fields, 'alipay_trans_id') ?? sent.tradeNo,
    amount: sent.amount,
    amountCny: cny === undefined ? undefined : money(cny, 'CNY', 'refund_amount_cny', ctx),
    exchangeRate: opt(fields, 'exchange_rate'),
  });
}
