import { randomBytes } from 'node:crypto';
import { normalizeCharset, type Charset } from '../alipay/charset';
import type { Signer } from '../alipay/signing';
import { formatMinor, InvalidMoneyError, parseMoney, type Money } from '../money';
import { formatGmt8 } from '../time';
import type { SandboxCore } from './core';
import { badRequest, SandboxError } from './errors';
import { signedNotification } from './notification-body';
import type { SandboxPartner } from './partners';
import type { QrCode } from './state/codes';
import { convert } from './state/rates';
import type { Trade } from './state/trades';

/** What a customer does at the counter: scan `qrcode`, type `amount`, confirm (unless `unpaid`). */
export interface PayInput {
  /** The code content (`https://qr.alipay.com/…`) or just its last path segment. */
  qrcode?: string;
  /** Alias of `qrcode`. */
  code?: string;
  /** Decimal amount in major units, as typed (`"8.80"`; a JSON number is accepted too). */
  amount: string | number;
  /** Must be the code's pricing currency (`trans_currency`); default that currency. */
  currency?: string;
  /** True: the customer walks away before confirming (a WAIT_BUYER_PAY trade, no notification). */
  unpaid?: boolean;
}

/** The result of a payment: the trade and its notification. */
export interface PaidTrade {
  readonly trade: Trade;
  /** The payment notification's `notify_id` (undefined when unpaid or the code has no notify_url). */
  readonly notifyId: string | undefined;
  readonly notifyUrl: string | undefined;
}

function amountOf(input: PayInput, code: QrCode): Money {
  const currency = input.currency ?? code.data.transCurrency;
  if (currency !== code.data.transCurrency) {
    throw badRequest(
      `this code is priced in ${code.data.transCurrency}; the customer cannot type ${currency}`,
    );
  }
  if (typeof input.amount !== 'string')
    throw badRequest('amount must be a decimal string such as "8.80"');
  let amount: Money;
  try {
    amount = parseMoney(input.amount, currency);
  } catch (e) {
    if (e instanceof InvalidMoneyError) throw badRequest(e.message, e);
    throw e;
  }
  if (amount.minor === 0) throw badRequest('amount must be positive');
  return amount;
}

/**
 * A customer pays a code: the wallet refuses stopped and deleted codes ("the code is invalid",
 * MAPI.md §8.1); otherwise Alipay creates the trade, takes the money and notifies the code's
 * `notify_url` with a signed `trade_status_sync`.
 */
export function pay(core: SandboxCore, input: PayInput): PaidTrade {
  const ref =
    typeof input === 'object' && input !== null ? (input.qrcode ?? input.code) : undefined;
  if (typeof ref !== 'string' || ref === '') throw badRequest('qrcode is required');
  const code = core.codes.get(ref);
  if (!code) throw new SandboxError('SANDBOX_NOT_FOUND', `no code ${ref}`);
  if (code.status !== 'ACTIVE') {
    throw new SandboxError(
      'SANDBOX_CODE_NOT_PAYABLE',
      `the wallet says the code is invalid (it is ${code.status})`,
    );
  }
  const amount = amountOf(input, code);
  const partner = core.partners.get(code.partner);
  if (!partner) {
    // A code from the state file whose partner this sandbox is no longer configured with.
    throw new SandboxError(
      'SANDBOX_CODE_NOT_PAYABLE',
      `the code belongs to partner ${code.partner}, which this sandbox is not configured with`,
    );
  }
  const now = core.clock.now();
  const trade = core.trades.open(code, amount, now, input.unpaid !== true);
  core.changed();
  if (input.unpaid === true || !code.notifyUrl) {
    core.log(
      `pay ${trade.tradeNo} ${formatMinor(amount.minor, amount.currency)} ${amount.currency}${input.unpaid ? ' (unpaid)' : ' (code has no notify_url)'}`,
    );
    return { trade, notifyId: undefined, notifyUrl: code.notifyUrl };
  }
  const signer = notificationSigner(partner, code);
  const charset = notificationCharset(code);
  const notifyId = core.ids.notifyId();
  const fields = paymentFields(trade, code, notifyId, now);
  const { body, fields: signed, contentType } = signedNotification(fields, signer, charset);
  core.notifier.send({
    notifyId,
    partner: partner.partner,
    tradeNo: trade.tradeNo,
    outTradeNo: trade.outTradeNo,
    url: code.notifyUrl,
    fields: signed,
    body,
    contentType,
    forgedBody: () =>
      signedNotification({ ...fields, notify_id: core.ids.notifyId() }, forger(signer), charset)
        .body,
  });
  core.log(
    `pay ${trade.tradeNo} ${formatMinor(amount.minor, amount.currency)} ${amount.currency} -> notify ${code.notifyUrl}`,
  );
  return { trade, notifyId, notifyUrl: code.notifyUrl };
}

/**
 * The fields of a merchant-QR payment notification (MAPI.md §12.3; names beyond `notify_*`,
 * `trade_status` and the signature are [R]). `total_fee`/`currency` are in the settlement
 * currency, `trans_amount`/`trans_currency` in the pricing currency.
 */
function paymentFields(
  trade: Trade,
  code: QrCode,
  notifyId: string,
  now: number,
): Record<string, string> {
  const settled = convert(trade.amount, trade.settlementCurrency);
  const fields: Record<string, string> = {
    notify_id: notifyId,
    notify_time: formatGmt8(now),
    notify_type: 'trade_status_sync',
    partner: trade.partner,
    seller_id: trade.partner,
    trade_no: trade.tradeNo,
    out_trade_no: trade.outTradeNo,
    trade_status: 'TRADE_SUCCESS',
    total_fee: formatMinor(settled.minor, trade.settlementCurrency),
    currency: trade.settlementCurrency,
    trans_amount: formatMinor(trade.amount.minor, trade.amount.currency),
    trans_currency: trade.amount.currency,
    forex_rate: settled.rate,
    buyer_id: trade.buyer.userId,
    buyer_login_id: trade.buyer.loginId,
    gmt_create: formatGmt8(trade.createdAt),
    gmt_payment: formatGmt8(trade.paidAt ?? now),
    qrcode: code.qrcode,
    store_id: code.data.storeId,
    secondary_merchant_id: code.data.secondaryMerchantId,
  };
  if (trade.passbackParameters) fields.passback_parameters = trade.passbackParameters;
  return fields;
}

/** The code's `notify_sign_type` when the partner has that key [R], else the partner's default. */
function notificationSigner(partner: SandboxPartner, code: QrCode): Signer {
  const wanted = code.data.notifySignType?.toUpperCase();
  for (const [type, signer] of partner.signers) if (type === wanted) return signer;
  return partner.signers.get(partner.notifySignType) as Signer;
}

/** The code's `notify_charset` when valid [R], else UTF-8. */
function notificationCharset(code: QrCode): Charset {
  try {
    return code.data.notifyCharset ? normalizeCharset(code.data.notifyCharset) : 'UTF-8';
  } catch {
    return 'UTF-8';
  }
}

/** A signer that produces well-shaped but wrong signatures: what a forger without the key sends. */
function forger(genuine: Signer): Signer {
  const junk = (): string =>
    genuine.signType === 'MD5'
      ? randomBytes(16).toString('hex')
      : randomBytes(256).toString('base64');
  return { signType: genuine.signType, sign: junk, verify: () => false };
}
