import type { Money } from '../money';
import type { Charset } from './charset';
import type { SignType } from './signing';

/**
 * Domain-named inputs and results of the gateway client. These are what the rest of the engine
 * sees; the MAPI field names they map to live in `transformers.ts` only.
 */

/** Trade status vocabulary shared by QUERY and the payment notification (MAPI.md §9.3). */
export type TradeStatus = 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS' | 'TRADE_CLOSED' | 'TRADE_FINISHED';

/** Every {@link TradeStatus}. */
export const TRADE_STATUSES: readonly TradeStatus[] = Object.freeze([
  'WAIT_BUYER_PAY',
  'TRADE_SUCCESS',
  'TRADE_CLOSED',
  'TRADE_FINISHED',
]);

/** True when money was received (and not reversed at the time of the status). */
export function isPaidStatus(status: TradeStatus): boolean {
  return status === 'TRADE_SUCCESS' || status === 'TRADE_FINISHED';
}

/** MODIFYSTATUS targets. DELETE is terminal. */
export type QrCodeStatusChange = 'STOP' | 'RESTART' | 'DELETE';

/** Surcharge of a code: a fixed amount in the settlement currency, or a rate in [0, 0.05]. */
export type ChannelFee =
  | { readonly type: 'FIXED'; readonly amount: Money }
  | { readonly type: 'RATE'; readonly rate: string };

/** Taxi data, required when the merchant category code is 4121. */
export interface TaxiInfo {
  readonly operationId: string;
  readonly number: string;
  readonly driverName: string;
  readonly driverMobile: string;
}

/** The data of a merchant QR code (CREATE, and MODIFY which always sends the full set). */
export interface QrCodeInput {
  /** Partner-assigned sub-merchant ID; cannot change after creation. */
  readonly secondaryMerchantId: string;
  readonly secondaryMerchantName: string;
  /** 4-digit MCC, e.g. 5812 restaurants, 4121 taxi. */
  readonly merchantCategoryCode: string;
  readonly storeId: string;
  /** Required except for taxis (MCC 4121). */
  readonly storeName?: string;
  /** Currency the customer types the amount in. */
  readonly pricingCurrency: string;
  /** Currency settled to the merchant. */
  readonly settlementCurrency: string;
  /** ISV ID; cannot change after creation. */
  readonly serviceProviderId?: string;
  readonly channelFee?: ChannelFee;
  /** ISO 3166-1 alpha-2. */
  readonly countryCode?: string;
  readonly address?: string;
  /** Flat string map echoed back after a successful payment. */
  readonly passback?: Readonly<Record<string, string>>;
  readonly notifyMobile?: string;
  readonly notifyWangwang?: string;
  readonly notifyAlipayAccount?: string;
  readonly taxi?: TaxiInfo;
  /** [R] presumably lets the payer add a memo. */
  readonly showMemo?: boolean;
  /** [R] presumably the sign type of this code's notifications. */
  readonly notificationSignType?: SignType;
  /** [R] presumably the charset of this code's notifications. */
  readonly notificationCharset?: Charset;
  /** Overrides the configured notification URL for this code. */
  readonly notifyUrl?: string;
}

/** CREATE / MODIFY answer. */
export interface QrCodeResult {
  /** The code content; persist it: MODIFY / MODIFYSTATUS need it. */
  readonly qrcode: string;
  /** Alipay-hosted picture of the code, when returned. */
  readonly imageUrl?: string;
}

/** MODIFYSTATUS answer. */
export interface QrCodeStatusResult {
  readonly qrcode: string;
  readonly status: QrCodeStatusChange;
}

/** Identifies one Alipay trade: our side's ID, plus Alipay's when known. */
export interface TradeRef {
  /** Partner-side transaction ID (notification `out_trade_no`). */
  readonly outTradeNo: string;
  /** Alipay transaction ID (notification `trade_no`). */
  readonly tradeNo?: string;
}

/** QUERY answer. */
export interface TradeQueryResult {
  readonly status: TradeStatus;
  /** Transaction amount in its currency. */
  readonly amount: Money;
  readonly outTradeNo: string;
  readonly tradeNo?: string;
  /** Payment time, epoch ms. */
  readonly paidAt?: number;
  readonly buyer: { readonly loginId?: string; readonly userId?: string };
  /** Rate from the transaction currency to CNY, verbatim decimal. */
  readonly exchangeRate?: string;
  readonly amountCny?: Money;
  /** [R] amount in the foreign (settlement) currency, verbatim decimal. */
  readonly forexTotalFee?: string;
  /** [R] pricing -> settlement rate, verbatim. */
  readonly forexRate?: string;
  /** Coupon discount in the settlement currency, verbatim decimal. */
  readonly discountForexAmount?: string;
  /** HK only: `ALIPAYCN` / `ALIPAYHK`. */
  readonly paymentInstitution?: string;
}

/** CANCEL answer. */
export interface CancelResult {
  /**
   * `close`: the trade was unpaid and is closed, nothing refunded; `refund`: the payment was
   * reversed (fee returned). Undefined when Alipay did not say (seen in real answers): the
   * cancel succeeded, QUERY to learn which.
   */
  readonly action?: 'close' | 'refund';
  readonly outTradeNo: string;
  readonly tradeNo?: string;
}

/** REFUND input. Always synchronous (`is_sync=Y`). */
export interface RefundInput extends TradeRef {
  /** Stable per intended refund; reuse it on every retry. Must differ from `outTradeNo`. */
  readonly refundId: string;
  readonly amount: Money;
  readonly reason?: string;
}

/** REFUND answer. */
export interface RefundResult {
  readonly refundId: string;
  readonly outTradeNo: string;
  readonly tradeNo?: string;
  readonly amount: Money;
  readonly amountCny?: Money;
  readonly exchangeRate?: string;
}

/** A verified payment notification (MAPI.md §12.3), fields present in the form only. */
export interface PaymentNotification {
  /**
   * Every field exactly as received, MAPI names included (also unknown fields, `sign` and
   * `sign_type`): store it verbatim; do not read MAPI names from it above the gateway layer.
   */
  readonly rawFields: Readonly<Record<string, string>>;
  readonly charset: Charset;
  readonly signType: SignType;
  readonly notifyId: string;
  readonly notifyType?: string;
  /** Epoch ms of `notify_time` ([R] GMT+8); absent when missing or unparsable. */
  readonly notifyTime?: number;
  /** `UNRECOGNISED` when Alipay sent a value outside {@link TRADE_STATUSES} (see rawFields). */
  readonly tradeStatus?: TradeStatus | 'UNRECOGNISED';
  readonly tradeNo?: string;
  readonly outTradeNo?: string;
  /** `total_fee` verbatim, and as money when it parses in {@link currency}. */
  readonly totalFee?: string;
  readonly currency?: string;
  readonly amount?: Money;
  /** `trans_amount` / `trans_currency` (pricing side), verbatim and as money when parsable. */
  readonly pricingAmount?: string;
  readonly pricingCurrency?: string;
  readonly pricingMoney?: Money;
  readonly forexTotalFee?: string;
  readonly forexRate?: string;
  readonly buyerId?: string;
  /** `buyer_login_id`, or `buyer_email` when that is what arrived. */
  readonly buyerLoginId?: string;
  readonly createdAt?: number;
  readonly paidAt?: number;
  readonly sellerId?: string;
  readonly partner?: string;
  readonly qrcode?: string;
  readonly storeId?: string;
  readonly secondaryMerchantId?: string;
  /** `passback_parameters` (or `extra_common_param`) verbatim. */
  readonly passbackParameters?: string;
  readonly subject?: string;
  readonly body?: string;
  readonly memo?: string;
  /**
   * Set only for a payment found in Alipay's reconciliation file instead of a notification
   * (no notification arrived): the file and line. `notifyId` is then made up and must not be
   * sent to `notify_verify`. Never set by the notification parser.
   */
  readonly foundByReconciliation?: { readonly file: string; readonly line: number };
}
