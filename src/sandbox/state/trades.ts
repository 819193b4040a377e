import type { Money } from '../../money';
import { sameGmt8Day } from '../../time';
import type { QrCode } from './codes';
import type { IdFactory } from './ids';
import { cnyEquivalent } from './rates';
import { BusinessRefusal, DetailCode, MapiError } from '../refusals';

/** Trade status vocabulary of QUERY and the notification (MAPI.md §9.3). */
export type TradeStatus = 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS' | 'TRADE_CLOSED' | 'TRADE_FINISHED';

/** Why a trade closed. */
export type CloseReason = 'CANCEL' | 'REFUND' | 'TIMEOUT';

/** A customer's payment on a merchant QR code, as Alipay keeps it. */
export interface Trade {
  readonly partner: string;
  readonly tradeNo: string;
  readonly outTradeNo: string;
  readonly qrcode: string;
  readonly storeId: string;
  readonly secondaryMerchantId: string;
  /** What the customer typed, in the code's pricing currency (`trans_currency`). */
  readonly amount: Money;
  /** The code's settlement currency. */
  readonly settlementCurrency: string;
  readonly buyer: { userId: string; loginId: string };
  readonly passbackParameters: string | undefined;
  readonly createdAt: number;
  paidAt: number | undefined;
  /** Set by CANCEL, by a full refund, or (unpaid trades) by the payment time limit. */
  closed: { at: number; by: CloseReason } | undefined;
  /** What CANCEL did, once it succeeded. */
  cancelAction: 'close' | 'refund' | undefined;
  refundedMinor: number;
  readonly refundIds: string[];
}

/** A refund, keyed by partner + `partner_refund_id` (MAPI.md §11.1). */
export interface Refund {
  readonly partner: string;
  readonly partnerRefundId: string;
  readonly partnerTransId: string;
  readonly tradeNo: string;
  readonly amount: Money;
  readonly reason: string | undefined;
  readonly createdAt: number;
  readonly exchangeRate: string;
  readonly cny: string;
}

/** A REFUND call, validated for syntax by the service layer. */
export interface RefundRequest {
  partnerTransId: string;
  alipayTransId: string | undefined;
  partnerRefundId: string;
  amount: Money;
  reason: string | undefined;
}

/** Time limits of trades (configurable per sandbox). */
export interface TradePolicy {
  /** How long after payment REFUND is allowed; afterwards the trade is TRADE_FINISHED. */
  refundPeriodMs: number;
  /** How long an unpaid trade waits before Alipay closes it. */
  unpaidTimeoutMs: number;
}

const tradeKey = (partner: string, id: string): string => `${partner}\u0000${id}`;

/**
 * Trades and refunds of all partners with the after-sales rules of MAPI.md §10–11: CANCEL only
 * within the GMT+8 transaction day, refunds never above the paid amount, one refund per
 * `partner_refund_id`, REFUND only within the refund period.
 */
export class TradeBook {
  private readonly byTradeNo = new Map<string, Trade>();
  private readonly byOutTradeNo = new Map<string, Trade>();
  private readonly refundsById = new Map<string, Refund>();

  constructor(
    private readonly ids: IdFactory,
    private readonly policy: TradePolicy,
  ) {}

  /** A customer scanned `code` and typed `amount`; `paid` says whether they also confirmed. */
  open(code: QrCode, amount: Money, now: number, paid: boolean): Trade {
    const tradeNo = this.ids.tradeNo(now);
    const trade: Trade = {
      partner: code.partner,
      tradeNo,
      outTradeNo: this.ids.outTradeNo(now),
      qrcode: code.qrcode,
      storeId: code.data.storeId,
      secondaryMerchantId: code.data.secondaryMerchantId,
      amount,
      settlementCurrency: code.data.currency,
      buyer: this.ids.buyer(),
      passbackParameters: code.data.passbackParameters,
      createdAt: now,
      paidAt: paid ? now : undefined,
      closed: undefined,
      cancelAction: undefined,
      refundedMinor: 0,
      refundIds: [],
    };
    this.byTradeNo.set(tradeKey(trade.partner, tradeNo), trade);
    this.byOutTradeNo.set(tradeKey(trade.partner, trade.outTradeNo), trade);
    return trade;
  }

  /** The status QUERY reports at `now`; time limits are applied lazily. */
  status(trade: Trade, now: number): TradeStatus {
    if (trade.closed) return 'TRADE_CLOSED';
    if (trade.paidAt === undefined) {
      if (now - trade.createdAt < this.policy.unpaidTimeoutMs) return 'WAIT_BUYER_PAY';
      trade.closed = { at: trade.createdAt + this.policy.unpaidTimeoutMs, by: 'TIMEOUT' };
      return 'TRADE_CLOSED';
    }
    return now - trade.paidAt < this.policy.refundPeriodMs ? 'TRADE_SUCCESS' : 'TRADE_FINISHED';
  }

  /** Finds a trade of `partner`; `tradeNo` wins over `outTradeNo` when both are given (MAPI.md §9.1, §10.2). */
  find(
    partner: string,
    ref: { tradeNo?: string | undefined; outTradeNo?: string | undefined },
  ): Trade | undefined {
    if (ref.tradeNo) return this.byTradeNo.get(tradeKey(partner, ref.tradeNo));
    if (ref.outTradeNo) return this.byOutTradeNo.get(tradeKey(partner, ref.outTradeNo));
    return undefined;
  }

  /** Every trade, oldest first. */
  trades(): Trade[] {
    return [...this.byTradeNo.values()];
  }

  /** Every refund, oldest first. */
  refunds(): Refund[] {
    return [...this.refundsById.values()];
  }

  /** Puts back trades and refunds saved by an earlier sandbox (oldest first). */
  restore(trades: readonly Trade[], refunds: readonly Refund[]): void {
    for (const trade of trades) {
      this.byTradeNo.set(tradeKey(trade.partner, trade.tradeNo), trade);
      this.byOutTradeNo.set(tradeKey(trade.partner, trade.outTradeNo), trade);
    }
    for (const refund of refunds)
      this.refundsById.set(tradeKey(refund.partner, refund.partnerRefundId), refund);
  }

  /**
   * CANCEL (MAPI.md §10): closes an unpaid trade (`close`) or fully reverses a paid one
   * (`refund`), only on the GMT+8 day of the payment. A repeated CANCEL of a cancelled trade
   * answers the same action again, so a retry after a lost answer is safe [R].
   */
  cancel(
    partner: string,
    ref: { tradeNo?: string | undefined; outTradeNo?: string | undefined },
    now: number,
  ): { trade: Trade; action: 'close' | 'refund' } {
    const trade = this.find(partner, ref);
    const refuse = (code: string, detail: string, detailCode?: string): never => {
      const fields: Record<string, string> = { retry_flag: 'N' };
      if (detailCode) fields.detail_error_code = detailCode;
      throw new BusinessRefusal(code, detail, fields);
    };
    if (!trade) return refuse(MapiError.TRADE_NOT_EXIST, 'no such trade');
    if (trade.cancelAction) return { trade, action: trade.cancelAction };
    if (!sameGmt8Day(trade.paidAt ?? trade.createdAt, now)) {
      return refuse(
        MapiError.TRADE_STATUS_ERROR,
        'the GMT+8 transaction day is over; use REFUND',
        DetailCode.CANCEL_TIME_EXPIRED,
      );
    }
    const status = this.status(trade, now);
    if (
      status === 'WAIT_BUYER_PAY' ||
      (status === 'TRADE_CLOSED' && trade.closed?.by === 'TIMEOUT')
    ) {
      trade.closed ??= { at: now, by: 'CANCEL' };
      trade.cancelAction = 'close';
      return { trade, action: 'close' };
    }
    if (status === 'TRADE_CLOSED')
      return refuse(MapiError.TRADE_HAS_CLOSE, 'the trade is already closed');
    if (status === 'TRADE_FINISHED') {
      return refuse(MapiError.TRADE_STATUS_ERROR, 'the trade is no longer refundable');
    }
    if (trade.refundedMinor > 0) {
      // [R] CANCEL reverses a whole trade; one already partly refunded must go through REFUND.
      return refuse(
        MapiError.TRADE_STATUS_ERROR,
        'the trade is partly refunded; REFUND the rest',
        DetailCode.TRADE_PARTLY_REFUNDED,
      );
    }
    trade.closed = { at: now, by: 'CANCEL' };
    trade.cancelAction = 'refund';
    return { trade, action: 'refund' };
  }

  /**
   * REFUND (MAPI.md §11): a repeat of a known `partner_refund_id` with the same parameters
   * returns the first refund and moves no money [R]; with other parameters it is refused.
   * A new refund must fit in what is left of the paid amount.
   */
  refund(
    partner: string,
    req: RefundRequest,
    now: number,
  ): { refund: Refund; trade: Trade; repeated: boolean } {
    const known = this.refundsById.get(tradeKey(partner, req.partnerRefundId));
    if (known) {
      const same =
        known.partnerTransId === req.partnerTransId &&
        known.amount.minor === req.amount.minor &&
        known.amount.currency === req.amount.currency &&
        (req.alipayTransId === undefined || req.alipayTransId === known.tradeNo);
      if (!same) {
        throw new BusinessRefusal(
          MapiError.REPEATED_REFUNDMENT_REQUEST,
          'partner_refund_id reused with different parameters',
        );
      }
      return {
        refund: known,
        trade: this.byTradeNo.get(tradeKey(partner, known.tradeNo)) as Trade,
        repeated: true,
      };
    }
    const trade = this.find(partner, { outTradeNo: req.partnerTransId });
    if (!trade || (req.alipayTransId !== undefined && req.alipayTransId !== trade.tradeNo)) {
      throw new BusinessRefusal(MapiError.TRADE_NOT_EXIST, 'no such trade');
    }
    if (req.amount.currency !== trade.amount.currency) {
      throw new BusinessRefusal(
        MapiError.CURRENCY_NOT_SAME,
        `the trade is in ${trade.amount.currency}`,
      );
    }
    const status = this.status(trade, now);
    if (status === 'WAIT_BUYER_PAY')
      throw new BusinessRefusal(MapiError.TRADE_STATUS_ERROR, 'the trade is not paid');
    if (status === 'TRADE_CLOSED')
      throw new BusinessRefusal(MapiError.TRADE_HAS_CLOSE, 'the trade is closed');
    if (status === 'TRADE_FINISHED')
      throw new BusinessRefusal(
        MapiError.REFUNDMENT_VALID_DATE_EXCEED,
        'the refund period is over',
      );
    const remaining = trade.amount.minor - trade.refundedMinor;
    if (req.amount.minor > remaining) {
      throw new BusinessRefusal(
        MapiError.REQUEST_AMOUNT_EXCEED,
        `only ${remaining} minor units are refundable`,
      );
    }
    const { exchangeRate, cny } = cnyEquivalent(req.amount);
    const refund: Refund = {
      partner,
      partnerRefundId: req.partnerRefundId,
      partnerTransId: req.partnerTransId,
      tradeNo: trade.tradeNo,
      amount: req.amount,
      reason: req.reason,
      createdAt: now,
      exchangeRate,
      cny,
    };
    this.refundsById.set(tradeKey(partner, req.partnerRefundId), refund);
    trade.refundIds.push(req.partnerRefundId);
    trade.refundedMinor += req.amount.minor;
    if (trade.refundedMinor === trade.amount.minor) trade.closed = { at: now, by: 'REFUND' };
    return { refund, trade, repeated: false };
  }
}
