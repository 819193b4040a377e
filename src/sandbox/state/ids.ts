import { randomBytes } from 'node:crypto';
import { DAY_MS, gmt8Date, GMT8_OFFSET_MS } from '../../time';

const digits = (n: number, width: number): string => String(n).padStart(width, '0');
const ymd = (epochMs: number): string => gmt8Date(epochMs).replace(/-/g, '');

/** The sequence counters of an {@link IdFactory}, as kept in the state file. */
export interface IdSequences {
  trade: number;
  buyer: number;
}

/**
 * Where a new sandbox starts its trade sequence: milliseconds since GMT+8 midnight × 1000 (host
 * time; at most 86 399 999 000, inside the 11 digits of `out_trade_no` and the 13 of
 * `trade_no`). A sandbox started later the same day therefore never repeats the `out_trade_no`
 * / `trade_no` of an earlier one, unless that one handed out more than 1000 trades per
 * millisecond it ran. (The date prefix of the IDs follows the sandbox clock.)
 */
export function timeSeededTradeSequence(hostNowMs: number): number {
  const msOfDay = (((hostNowMs + GMT8_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS;
  return Math.floor(msOfDay) * 1000;
}

/**
 * Makes the identifiers Alipay would hand out, shaped like the real ones (MAPI.md §5.2 and the
 * examples of §9.4 / §12.3), so that length and format checks in the engine meet realistic
 * values. Sequences make them unique per sandbox, and across processes: the trade sequence starts
 * at a time-derived offset ({@link timeSeededTradeSequence}) or continues the one of the state
 * file. `notify_id`s and codes are random so that a test cannot guess a valid one.
 */
export class IdFactory {
  private tradeSeq: number;
  private buyerSeq = 0;

  constructor(tradeSeq: number = timeSeededTradeSequence(Date.now())) {
    this.tradeSeq = tradeSeq;
  }

  /** The counters, for the state file. */
  sequences(): IdSequences {
    return { trade: this.tradeSeq, buyer: this.buyerSeq };
  }

  /** Continues saved counters; never moves a counter backwards (IDs are never reused). */
  restore(saved: IdSequences): void {
    this.tradeSeq = Math.max(this.tradeSeq, saved.trade);
    this.buyerSeq = Math.max(this.buyerSeq, saved.buyer);
  }

  /** Alipay transaction ID (`trade_no` / `alipay_trans_id`), 28 digits like `2024010122001300000000000001`. */
  tradeNo(epochMs: number): string {
    this.tradeSeq += 1;
    return `${ymd(epochMs)}2200130${digits(this.tradeSeq, 13)}`;
  }

  /** Partner-side transaction ID Alipay generates for a code payment (`out_trade_no`), 19 digits [R]. */
  outTradeNo(epochMs: number): string {
    return `${ymd(epochMs)}${digits(this.tradeSeq, 11)}`;
  }

  /** `notify_id`: String(34), random hex. */
  notifyId(): string {
    return randomBytes(17).toString('hex');
  }

  /** Code content and picture URL of a new merchant QR code (MAPI.md §6.4). */
  qrcode(): { qrcode: string; imgUrl: string } {
    const tail = `bax${randomBytes(12).toString('hex').slice(0, 21)}`;
    return {
      qrcode: `https://qr.alipay.com/${tail}`,
      imgUrl: `https://mobilecodec.alipay.com/show.htm?code=${tail}&picSize=L`,
    };
  }

  /** A made-up buyer: user ID `2088…` (16 digits) and a masked login. */
  buyer(): { userId: string; loginId: string } {
    this.buyerSeq += 1;
    return {
      userId: `2088722${digits(this.buyerSeq, 9)}`,
      loginId: `135****${digits(this.buyerSeq % 10_000, 4)}`,
    };
  }
}
