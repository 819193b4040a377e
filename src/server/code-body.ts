import type { ChannelFee, QrCodeInput } from '../alipay';
import { InvalidRequestError } from '../client-errors';
import { formatMinor, InvalidMoneyError, parseMoney } from '../money';
import type { QrCodeState, UnmatchedPaymentPolicy } from '../workflows/qrcode-types';

/**
 * The merchant API's JSON for a code, and its mapping to the domain `QrCodeInput`. Money is a
 * decimal string at this edge (`"channelFee": {"type": "FIXED", "amount": "0.50"}`, in the
 * settlement currency); unknown fields are refused so that a typo never goes unnoticed.
 */
const TEXT_FIELDS = [
  'secondaryMerchantId',
  'secondaryMerchantName',
  'merchantCategoryCode',
  'storeId',
  'storeName',
  'pricingCurrency',
  'settlementCurrency',
  'serviceProviderId',
  'countryCode',
  'address',
  'notifyMobile',
  'notifyWangwang',
  'notifyAlipayAccount',
  'notificationSignType',
  'notificationCharset',
] as const;
const OTHER_FIELDS = ['channelFee', 'passback', 'taxi', 'showMemo'] as const;
const KNOWN = new Set<string>([...TEXT_FIELDS, ...OTHER_FIELDS]);

export interface CodeRequest {
  info: QrCodeInput;
  unmatchedPayments?: UnmatchedPaymentPolicy;
}

/** Parses a create/modify body; the gateway layer's rules run after this (field-named too). */
export function codeRequestOf(body: unknown, allowPolicy: boolean): CodeRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new InvalidRequestError('body', 'must be a JSON object');
  const json = body as Record<string, unknown>;
  const info: Record<string, unknown> = {};
  let unmatchedPayments: UnmatchedPaymentPolicy | undefined;
  for (const [key, value] of Object.entries(json)) {
    if (key === 'unmatchedPayments' && allowPolicy) {
      if (value !== 'ACCEPT' && value !== 'REVERSE')
        throw new InvalidRequestError('unmatchedPayments', 'must be ACCEPT or REVERSE');
      unmatchedPayments = value;
      continue;
    }
    if (!KNOWN.has(key)) throw new InvalidRequestError(key, 'is not a field of a code');
    if ((TEXT_FIELDS as readonly string[]).includes(key) && typeof value !== 'string')
      throw new InvalidRequestError(key, 'must be a string');
    info[key] = value;
  }
  if (info.channelFee !== undefined) {
    info.channelFee = channelFeeOf(info.channelFee, info.settlementCurrency);
  }
  return {
    info: info as unknown as QrCodeInput,
    ...(unmatchedPayments ? { unmatchedPayments } : {}),
  };
}

function channelFeeOf(value: unknown, settlement: unknown): ChannelFee {
  const fee = value as { type?: unknown; amount?: unknown; rate?: unknown } | null;
  if (fee?.type === 'RATE') {
    if (typeof fee.rate !== 'string')
      throw new InvalidRequestError('channelFee.rate', 'must be a decimal string such as "0.015"');
    return { type: 'RATE', rate: fee.rate };
  }
  if (fee?.type === 'FIXED') {
    if (typeof fee.amount !== 'string')
      throw new InvalidRequestError('channelFee.amount', 'must be a decimal string such as "0.50"');
    if (typeof settlement !== 'string')
      throw new InvalidRequestError('settlementCurrency', 'is required with a FIXED channel fee');
    try {
      return { type: 'FIXED', amount: parseMoney(fee.amount, settlement) };
    } catch (err) {
      if (err instanceof InvalidMoneyError)
        throw new InvalidRequestError('channelFee.amount', err.message);
      throw err;
    }
  }
  throw new InvalidRequestError('channelFee.type', 'must be FIXED or RATE');
}

/** The store slot in URLs: `no-fee` (the plain code) or `fee` (the code with a channel fee). */
export function withFeeOf(slot: string): boolean {
  if (slot === 'fee') return true;
  if (slot === 'no-fee') return false;
  throw new InvalidRequestError('slot', 'must be no-fee or fee');
}

/** A code as the merchant API shows it: money as decimal strings, links to the printable picture. */
export function codeView(code: QrCodeState, basePath: string) {
  const { info } = code;
  const fee = info.channelFee;
  const slot = code.withFee ? 'fee' : 'no-fee';
  const self = `${basePath}/v1/stores/${encodeURIComponent(code.storeId)}/codes/${slot}`;
  return {
    ...code,
    slot,
    info: {
      ...info,
      ...(fee?.type === 'FIXED'
        ? {
            channelFee: {
              type: 'FIXED',
              amount: formatMinor(fee.amount.minor, fee.amount.currency),
              currency: fee.amount.currency,
            },
          }
        : {}),
    },
    links: { self, png: `${self}/qr.png`, svg: `${self}/qr.svg` },
  };
}
