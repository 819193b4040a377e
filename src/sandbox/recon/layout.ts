import { formatMinor, type Money } from '../../money';
import { DAY_MS, endOfGmt8Day, formatGmt8, parseGmt8 } from '../../time';
import type { CodeBook } from '../state/codes';
import { convert } from '../state/rates';
import type { Refund, Trade, TradeBook } from '../state/trades';

/**
 * The layout of Alipay's daily reconciliation files as the sandbox writes them (MAPI.md §15,
 * documented for the AlipayHK merchant-QR product; everything marked [R] is our guess, listed in
 * src/sandbox/README.md). Pure: the rows of one GMT+8 day from the trade book, then CSV text.
 */

/** `Transaction_type` of the transaction file. */
export type TransactionType = 'PAYMENT' | 'REFUND' | 'CANCEL' | 'REVERSAL';

/** One record of the transaction file (field names as §15; amounts in the settlement currency). */
export interface TransactionRow {
  Partner_transaction_id: string;
  Transaction_id: string;
  Transaction_amount: string;
  Charge_amount: string;
  Currency: string;
  Payment_time: string;
  Transaction_type: TransactionType;
  Remark: string;
  Secondary_merchant_industry: string;
  /** [R] not in the readable part of §15's list: which store the trade was paid at. */
  Store_id: string;
}

/** One record of the settlement file. */
export interface SettlementRow {
  Partner_transaction_id: string;
  Transaction_id: string;
  Amount: string;
  Fee: string;
  Settlement: string;
  Currency: string;
  Payment_time: string;
  Settlement_time: string;
  Type: 'P' | 'R';
  Status: 'L';
  Remarks: string;
  Secondary_merchant_industry: string;
}

export const TRANSACTION_COLUMNS: readonly (keyof TransactionRow)[] = [
  'Partner_transaction_id',
  'Transaction_id',
  'Transaction_amount',
  'Charge_amount',
  'Currency',
  'Payment_time',
  'Transaction_type',
  'Remark',
  'Secondary_merchant_industry',
  'Store_id',
];

export const SETTLEMENT_COLUMNS: readonly (keyof SettlementRow)[] = [
  'Partner_transaction_id',
  'Transaction_id',
  'Amount',
  'Fee',
  'Settlement',
  'Currency',
  'Payment_time',
  'Settlement_time',
  'Type',
  'Status',
  'Remarks',
  'Secondary_merchant_industry',
];

/** File names [R]: `<partner>_transaction_<yyyyMMdd>.csv`, `<partner>_settlement_<yyyyMMdd>.csv`. */
export function reconFileName(
  partner: string,
  kind: 'transaction' | 'settlement',
  date: string,
): string {
  return `${partner}_${kind}_${date.replace(/-/g, '')}.csv`;
}

/** Start (inclusive) and end (exclusive) of the GMT+8 day `YYYY-MM-DD`, epoch ms. */
export function gmt8DayBounds(date: string): { start: number; end: number } {
  const start = parseGmt8(`${date} 00:00:00`);
  return { start, end: start + DAY_MS };
}

/** Money movements of one partner's GMT+8 day, oldest first, in Alipay's terms. */
interface Movement {
  at: number;
  type: TransactionType;
  trade: Trade;
  refund?: Refund;
  amount: Money;
}

function movementsOf(trades: TradeBook, partner: string, date: string): Movement[] {
  const { start, end } = gmt8DayBounds(date);
  const inDay = (t: number | undefined): t is number => t !== undefined && t >= start && t < end;
  const out: Movement[] = [];
  for (const trade of trades.trades()) {
    if (trade.partner !== partner) continue;
    if (inDay(trade.paidAt))
      out.push({ at: trade.paidAt, type: 'PAYMENT', trade, amount: trade.amount });
    // [R] A CANCEL that gave a paid trade's money back is a CANCEL row; closing an unpaid trade
    // moved no money and has no row.
    if (trade.cancelAction === 'refund' && trade.closed && inDay(trade.closed.at))
      out.push({ at: trade.closed.at, type: 'CANCEL', trade, amount: trade.amount });
  }
  for (const refund of trades.refunds()) {
    if (refund.partner !== partner || !inDay(refund.createdAt)) continue;
    const trade = trades.find(partner, { tradeNo: refund.tradeNo });
    if (trade)
      out.push({ at: refund.createdAt, type: 'REFUND', trade, refund, amount: refund.amount });
  }
  return out.sort((a, b) => a.at - b.at);
}

/** The fee Alipay charges on a payment, half-up to the minor unit [R: a flat rate]. */
function feeOf(minor: number, feeBasisPoints: number): number {
  return Math.floor((minor * feeBasisPoints * 2 + 10_000) / 20_000);
}

/** What the sandbox needs to write a day's files. */
export interface LayoutInput {
  trades: TradeBook;
  codes: CodeBook;
  partner: string;
  /** `YYYY-MM-DD`, GMT+8. */
  date: string;
  /** Alipay's fee on payments, in basis points of the amount (refunds and cancels: no fee) [R]. */
  feeBasisPoints: number;
}

/** The day's rows of both files. */
export function dayRows(input: LayoutInput): {
  transactions: TransactionRow[];
  settlements: SettlementRow[];
} {
  const { start } = gmt8DayBounds(input.date);
  // [R] Settled the next day at 00:00:00 GMT+8, all liquidated (`L`).
  const settlementTime = formatGmt8(endOfGmt8Day(start));
  const transactions: TransactionRow[] = [];
  const settlements: SettlementRow[] = [];
  for (const m of movementsOf(input.trades, input.partner, input.date)) {
    const currency = m.trade.settlementCurrency;
    const minor = convert(m.amount, currency).minor;
    const fee = m.type === 'PAYMENT' ? feeOf(minor, input.feeBasisPoints) : 0;
    const code = input.codes.get(m.trade.qrcode);
    const industry = code?.data.secondaryMerchantIndustry ?? '';
    const id = m.refund ? m.refund.partnerRefundId : m.trade.outTradeNo;
    const remark = m.refund?.reason ?? (m.type === 'PAYMENT' ? (code?.data.storeName ?? '') : '');
    const time = formatGmt8(m.at);
    transactions.push({
      Partner_transaction_id: id,
      Transaction_id: m.trade.tradeNo,
      Transaction_amount: formatMinor(minor, currency),
      Charge_amount: formatMinor(fee, currency),
      Currency: currency,
      Payment_time: time,
      Transaction_type: m.type,
      Remark: remark,
      Secondary_merchant_industry: industry,
      Store_id: m.trade.storeId,
    });
    settlements.push({
      // §15: for cancelled trades the settlement file's Partner_transaction_id is the Transaction_id.
      Partner_transaction_id: m.type === 'CANCEL' ? m.trade.tradeNo : id,
      Transaction_id: m.trade.tradeNo,
      Amount: formatMinor(minor, currency),
      Fee: formatMinor(fee, currency),
      Settlement: formatMinor(m.type === 'PAYMENT' ? minor - fee : minor, currency),
      Currency: currency,
      Payment_time: time,
      Settlement_time: settlementTime,
      Type: m.type === 'PAYMENT' ? 'P' : 'R',
      Status: 'L',
      Remarks: remark,
      Secondary_merchant_industry: industry,
    });
  }
  return { transactions, settlements };
}

/** A CSV field, quoted when it must be (RFC 4180). */
function field(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function line(values: readonly string[]): string {
  return `${values.map(field).join(',')}\r\n`;
}

/**
 * A file's text [R]: a header-name line and a header-value line (`Partner`, the day, `Total_count`),
 * then the column names and one line per record, CRLF line ends.
 */
export function fileText<R extends object>(
  partner: string,
  date: string,
  dateColumn: string,
  columns: readonly (keyof R)[],
  rows: readonly R[],
): string {
  return (
    line(['Partner', dateColumn, 'Total_count']) +
    line([partner, date, String(rows.length)]) +
    line(columns.map(String)) +
    rows.map((r) => line(columns.map((c) => String(r[c])))).join('')
  );
}
