import type { PaymentNotification, SignType } from '../alipay';
import { parseMoney } from '../money';
import type { FileMovement } from '../workflows/reconciliation-types';

/**
 * The notification a payment found only in Alipay's transaction file stands in for: what the
 * file says (trade, amount, time, store), marked as found by reconciliation, so that it takes
 * exactly the notification's path (signal-with-start of its PaymentWorkflow, which confirms it
 * with QUERY). Its `notifyId` is made up (`recon-<trade_no>`): stable, so the same record
 * twice is one notification, and never sent to `notify_verify`.
 */
export function notificationFromFile(
  record: FileMovement,
  partnerId: string,
  signType: SignType,
): PaymentNotification & { outTradeNo: string } {
  return {
    rawFields: {},
    charset: 'UTF-8',
    signType,
    notifyId: `recon-${record.tradeNo}`,
    tradeStatus: 'TRADE_SUCCESS',
    tradeNo: record.tradeNo,
    outTradeNo: record.reference,
    totalFee: record.amount,
    currency: record.currency,
    amount: parseMoney(record.amount, record.currency),
    paidAt: record.at,
    partner: partnerId,
    // The store (an [R] column of the file) lets the payment ask its store's code, like a
    // notification would; the code judges counter orders at the payment's own time.
    ...(record.storeId ? { storeId: record.storeId } : {}),
    foundByReconciliation: { file: record.file, line: record.line },
  };
}
