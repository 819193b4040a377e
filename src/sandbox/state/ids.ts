import { randomBytes } from 'node:crypto';
import { gmt8Date } from '../../time';

const digits = (n: number, width: number): string => String(n).padStart(width, '0');
const ymd = (epochMs: number): string => gmt8Date(epochMs).replace(/-/g, '');

/**
 * Makes the identifiers Alipay would hand out, shaped like the real ones (MAPI.md §5.2 and the
 * examples of §9.4 / §12.3), so that length and format checks in the engine meet realistic
 * values. Sequences make them unique per sandbox; `notify_id`s and codes are random so that a
 * test cannot guess a valid one.
 */
export class IdFactory {
  private tradeSeq = 0;
  private buyerSeq = 0;

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
