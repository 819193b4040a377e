import type { ChannelFee, QrCodeInput } from '../alipay';
import { InvalidRequestError } from '../client-errors';
import { formatMinor, InvalidMoneyError, parseMoney } from '../money';
import type { QrCodeState } from '../workflows/qrcode-types';
import type { CodeModifyBody } from './schemas';

/**
 * The merchant API's code, both ways. The body's shape is checked by its schema before this
 * runs; here the channel fee's decimal amount becomes money in the settlement currency (the
 * gateway layer's field rules run after this, field-named too).
 */
export function codeInputOf(body: CodeModifyBody): QrCodeInput {
  const { channelFee, ...rest } = body;
  return {
    ...rest,
    ...(channelFee ? { channelFee: channelFeeOf(channelFee, body.settlementCurrency) } : {}),
  } as QrCodeInput;
}

function channelFeeOf(
  fee: NonNullable<CodeModifyBody['channelFee']>,
  settlement: string,
): ChannelFee {
  if (fee.type === 'RATE') return { type: 'RATE', rate: fee.rate };
  try {
    return { type: 'FIXED', amount: parseMoney(fee.amount, settlement) };
  } catch (err) {
    if (err instanceof InvalidMoneyError)
      throw new InvalidRequestError('channelFee.amount', err.message);
    throw err;
  }
}

/** `no-fee` (the plain code) or `fee` (the code with a channel fee). */
export function withFeeOf(slot: 'fee' | 'no-fee'): boolean {
  return slot === 'fee';
}

/** A code as the merchant API shows it: money as decimal strings, links to the printable picture. */
export function codeView(code: QrCodeState, basePath = '') {
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
