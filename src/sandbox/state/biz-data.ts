import { isSupportedCurrency, parseMoney } from '../../money';
import { GatewayRejection, MapiError } from '../refusals';

/** `channel_fee` of a code (MAPI.md §6.3). */
export interface ChannelFee {
  type: 'FIXED' | 'RATE';
  value: string;
}

/** The validated `biz_data` of CREATE / MODIFY (MAPI.md §6.2). */
export interface CodeData {
  secondaryMerchantId: string;
  secondaryMerchantName: string;
  secondaryMerchantIndustry: string;
  storeId: string;
  storeName: string;
  transCurrency: string;
  currency: string;
  sysServiceProviderId: string | undefined;
  channelFee: ChannelFee | undefined;
  /** `passback_parameters` as the JSON text echoed in the notification. */
  passbackParameters: string | undefined;
  /** `notify_sign_type` of Alipay's SDK sample: the sign type of this code's notifications [R]. */
  notifySignType: string | undefined;
  /** `notify_charset` of Alipay's SDK sample: the charset of this code's notifications [R]. */
  notifyCharset: string | undefined;
  /** Every field as received, for inspection. */
  raw: Record<string, unknown>;
}

const TAXI_MCC = '4121';
const ID_PATTERN = /^[A-Za-z0-9_-]+$/;

function reject(detail: string): never {
  throw new GatewayRejection(MapiError.ILLEGAL_ARGUMENT, `biz_data: ${detail}`);
}

function optionalString(raw: Record<string, unknown>, key: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') reject(`${key} must be a string`);
  return v;
}

function requiredString(raw: Record<string, unknown>, key: string, maxLength: number): string {
  const v = optionalString(raw, key);
  if (v === undefined) reject(`${key} is required`);
  if (v.length > maxLength) reject(`${key} is longer than ${maxLength}`);
  return v;
}

function currencyField(raw: Record<string, unknown>, key: string): string {
  const v = requiredString(raw, key, 3);
  if (!isSupportedCurrency(v))
    reject(`${key} ${JSON.stringify(v)} is not a supported upper-case ISO 4217 code`);
  return v;
}

function channelFee(raw: unknown, currency: string): ChannelFee | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const fee = typeof raw === 'string' ? parseJsonObject(raw, 'channel_fee') : raw;
  if (typeof fee !== 'object' || fee === null || Array.isArray(fee))
    reject('channel_fee must be an object');
  const { type, value } = fee as { type?: unknown; value?: unknown };
  if (type !== 'FIXED' && type !== 'RATE') reject('channel_fee.type must be FIXED or RATE');
  if (typeof value !== 'string') reject('channel_fee.value must be a string');
  if (type === 'RATE') {
    if (!/^(0(\.\d+)?|1(\.0+)?)$/.test(value) || Number(value) > 0.05)
      reject('channel_fee RATE value must be in [0, 0.05]');
  } else {
    try {
      parseMoney(value, currency);
    } catch {
      reject(`channel_fee FIXED value ${JSON.stringify(value)} is not a valid ${currency} amount`);
    }
  }
  return { type, value };
}

function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    reject(`${what} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    reject(`${what} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

function passback(raw: unknown): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const obj = typeof raw === 'string' ? parseJsonObject(raw, 'passback_parameters') : raw;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
    reject('passback_parameters must be a flat JSON object');
  if (Object.values(obj).some((v) => typeof v === 'object' && v !== null))
    reject('passback_parameters must not nest');
  return typeof raw === 'string' ? raw : JSON.stringify(obj);
}

/**
 * Parses and checks `biz_data` the way the CREATE page describes it; anything missing or
 * illegal is a gateway-level `ILLEGAL_ARGUMENT` (the integration overview: "the CREATE
 * service request will fail if ... compulsory parameter values are absent or illegal").
 */
export function parseCodeData(bizData: string): CodeData {
  const raw = parseJsonObject(bizData, 'biz_data');
  const secondaryMerchantIndustry = requiredString(raw, 'secondary_merchant_industry', 4);
  if (!/^\d{4}$/.test(secondaryMerchantIndustry))
    reject('secondary_merchant_industry must be a 4-digit MCC');
  const taxi = secondaryMerchantIndustry === TAXI_MCC;
  const secondaryMerchantId = requiredString(raw, 'secondary_merchant_id', 64);
  if (!ID_PATTERN.test(secondaryMerchantId))
    reject('secondary_merchant_id allows letters, digits, _ and -');
  const secondaryMerchantName = requiredString(raw, 'secondary_merchant_name', 64);
  // Taxis may omit the store (SDK comment, MAPI.md §6.2); they get an empty store key.
  const storeId = taxi
    ? (optionalString(raw, 'store_id') ?? '')
    : requiredString(raw, 'store_id', 32);
  if (storeId !== '' && !ID_PATTERN.test(storeId))
    reject('store_id allows letters, digits, _ and -');
  const storeName = taxi
    ? (optionalString(raw, 'store_name') ?? '')
    : requiredString(raw, 'store_name', 128);
  if (taxi) {
    for (const key of [
      'taxi_operation_id',
      'taxi_number',
      'taxi_driver_name',
      'taxi_driver_mobile',
    ]) {
      requiredString(raw, key, 64);
    }
  }
  const transCurrency = currencyField(raw, 'trans_currency');
  const currency = currencyField(raw, 'currency');
  // SDK rule (MAPI.md §5.4): pricing in a foreign currency settles in CNY or in that currency.
  if (transCurrency !== 'CNY' && currency !== 'CNY' && currency !== transCurrency) {
    reject(`currency must be CNY or ${transCurrency} when trans_currency is ${transCurrency}`);
  }
  return {
    secondaryMerchantId,
    secondaryMerchantName,
    secondaryMerchantIndustry,
    storeId,
    storeName,
    transCurrency,
    currency,
    sysServiceProviderId: optionalString(raw, 'sys_service_provider_id'),
    channelFee: channelFee(raw.channel_fee, currency),
    passbackParameters: passback(raw.passback_parameters),
    notifySignType: optionalString(raw, 'notify_sign_type'),
    notifyCharset: optionalString(raw, 'notify_charset'),
    raw,
  };
}
