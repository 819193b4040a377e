import { formatGmt8 } from '../time';
import type { Charset } from './charset';
import type { AlipayIds } from './errors';
import { QR_CODE_BIZ_TYPE, SERVICES, type ServiceName } from './services';
import { isSignType, type Signer } from './signing';
import { cancelFields, qrCodeBizData, queryFields, refundFields } from './transformers';
import type { QrCodeInput, QrCodeStatusChange, RefundInput, TradeRef } from './types';
import { CODE_TEXT, ID_TEXT, RequestValidator, isHttpUrl } from './validation';

/**
 * Typed inputs -> validated, signed MAPI parameter sets, one builder per service. Nothing here
 * does I/O; the same inputs (and clock) always give the same parameters, so a retried activity
 * sends the same IDs. Only `timestamp` follows the clock.
 */

/** What every request builder needs from the gateway configuration. */
export interface RequestContext {
  readonly partner: string;
  readonly charset: Charset;
  readonly signer: Signer;
  /** Default `notify_url` of CREATE / MODIFY / MODIFYSTATUS. */
  readonly notifyUrl?: string;
  readonly now: () => number;
  /** [R] CANCEL `timestamp`: epoch ms as documented, or the Java SDK's GMT+8 wall clock. */
  readonly cancelTimestamp: 'epochMs' | 'gmt8';
  /** hkapi accounts spell the REFUND reason `refund_reson`. */
  readonly refundReasonField: 'refund_reason' | 'refund_reson';
  /** Sign `notify_verify` (the doc page requires it; SDKs omit it). */
  readonly signNotifyVerify: boolean;
}

/** A request ready for the wire: every parameter, `sign_type` and `sign` included. */
export interface SignedRequest {
  readonly service: ServiceName;
  readonly params: Readonly<Record<string, string>>;
  /** The IDs the request is about, for errors and logs. */
  readonly ids: AlipayIds;
  /** Set when the service dictates the method (`notify_verify`: GET). */
  readonly method?: 'GET';
}

/** Longest `biz_data` accepted (String(2000)). */
export const MAX_BIZ_DATA_LENGTH = 2000;
const MCC_TAXI = '4121';

function sign(
  service: ServiceName,
  business: Record<string, string | undefined>,
  ctx: RequestContext,
  ids: AlipayIds,
  options: { signed?: boolean; method?: 'GET' } = {},
): SignedRequest {
  const params: Record<string, string> = {
    service,
    partner: ctx.partner,
    _input_charset: ctx.charset,
  };
  for (const [k, v] of Object.entries(business)) if (v !== undefined && v !== '') params[k] = v;
  if (options.signed !== false) {
    params['sign_type'] = ctx.signer.signType;
    params['sign'] = ctx.signer.sign(params, ctx.charset);
  }
  return options.method
    ? { service, params, ids, method: options.method }
    : { service, params, ids };
}

function notifyUrl(
  v: RequestValidator,
  input: string | undefined,
  ctx: Pick<RequestContext, 'notifyUrl'>,
): string | undefined {
  const url = v.text('notifyUrl', input ?? ctx.notifyUrl, { max: 200 });
  if (url !== undefined && !isHttpUrl(url)) v.fail('notifyUrl', 'must be an absolute http(s) URL');
  return url;
}

function validateQrCode(v: RequestValidator, input: QrCodeInput): void {
  if (typeof input !== 'object' || input === null) v.fail('input', 'is required');
  v.required('secondaryMerchantId', input.secondaryMerchantId, {
    max: 64,
    pattern: CODE_TEXT,
    patternText: 'allows letters, digits, _ and -',
  });
  v.required('secondaryMerchantName', input.secondaryMerchantName, { max: 64 });
  const mcc = v.required('merchantCategoryCode', input.merchantCategoryCode, {
    max: 4,
    pattern: /^[0-9]{4}$/,
    patternText: 'must be a 4-digit MCC',
  });
  v.required('storeId', input.storeId, {
    max: 32,
    pattern: CODE_TEXT,
    patternText: 'allows letters, digits, _ and -',
  });
  v.text('storeName', input.storeName, { max: 128, required: mcc !== MCC_TAXI });
  const pricing = v.currency('pricingCurrency', input.pricingCurrency);
  const settlement = v.currency('settlementCurrency', input.settlementCurrency);
  if (pricing !== 'CNY' && settlement !== 'CNY' && settlement !== pricing) {
    v.fail(
      'settlementCurrency',
      'must be CNY or equal to the pricing currency when pricing is not CNY',
    );
  }
  v.text('serviceProviderId', input.serviceProviderId, { max: 64, pattern: ID_TEXT });
  const fee = input.channelFee;
  if (fee !== undefined) {
    if (fee.type === 'FIXED') {
      const amount = fee.amount;
      v.currency('channelFee.amount.currency', amount?.currency);
      if (amount.currency !== settlement)
        v.fail('channelFee.amount', 'must be in the settlement currency');
      if (!Number.isSafeInteger(amount.minor) || amount.minor < 0)
        v.fail('channelFee.amount', 'must be a non-negative amount');
    } else if (fee.type === 'RATE') {
      v.decimalInRange('channelFee.rate', fee.rate, 0, 0.05, 4);
    } else {
      v.fail('channelFee.type', 'must be FIXED or RATE');
    }
  }
  v.text('countryCode', input.countryCode, {
    max: 2,
    min: 2,
    pattern: /^[A-Z]{2}$/,
    patternText: 'must be ISO 3166-1 alpha-2',
  });
  v.text('address', input.address, { max: 256 });
  if (input.passback !== undefined) {
    for (const [k, val] of Object.entries(input.passback)) {
      v.required(`passback key`, k, { max: 64, pattern: CODE_TEXT });
      v.required(`passback.${k}`, val, { max: 256 });
    }
  }
  v.text('notifyMobile', input.notifyMobile, {
    max: 20,
    pattern: /^[0-9]+$/,
    patternText: 'must be digits only',
  });
  v.text('notifyWangwang', input.notifyWangwang, { max: 64 });
  v.text('notifyAlipayAccount', input.notifyAlipayAccount, { max: 100 });
  if (mcc === MCC_TAXI && input.taxi === undefined) v.fail('taxi', 'is required for MCC 4121');
  if (input.taxi !== undefined) {
    v.required('taxi.operationId', input.taxi.operationId, { max: 64 });
    v.required('taxi.number', input.taxi.number, { max: 32 });
    v.required('taxi.driverName', input.taxi.driverName, { max: 64 });
    v.required('taxi.driverMobile', input.taxi.driverMobile, { max: 20, pattern: /^[0-9+]+$/ });
  }
  if (input.showMemo !== undefined && typeof input.showMemo !== 'boolean')
    v.fail('showMemo', 'must be a boolean');
  if (input.notificationSignType !== undefined && !isSignType(input.notificationSignType)) {
    v.fail('notificationSignType', 'must be MD5, RSA or RSA2');
  }
  if (
    input.notificationCharset !== undefined &&
    input.notificationCharset !== 'UTF-8' &&
    input.notificationCharset !== 'GBK'
  ) {
    v.fail('notificationCharset', 'must be UTF-8 or GBK');
  }
}

function bizData(v: RequestValidator, input: QrCodeInput): string {
  validateQrCode(v, input);
  const json = qrCodeBizData(input);
  if (json.length > MAX_BIZ_DATA_LENGTH)
    v.fail('input', `biz_data is longer than ${MAX_BIZ_DATA_LENGTH} characters`);
  return json;
}

function qrcodeParam(v: RequestValidator, qrcode: unknown): string {
  return v.required('qrcode', qrcode, {
    max: 512,
    pattern: ID_TEXT,
    patternText: 'must be the code returned by CREATE',
  });
}

/**
 * Checks a code's data by CREATE's rules without signing or sending anything, so that a merchant
 * API can refuse bad input at once. Throws {@link AlipayRequestValidationError} naming the field.
 */
export function validateQrCodeInput(input: QrCodeInput): void {
  const v = new RequestValidator(SERVICES.CREATE, { storeId: input?.storeId });
  bizData(v, input);
  if (input.notifyUrl !== undefined) notifyUrl(v, input.notifyUrl, {});
}

/** CREATE: get-or-create the code of a store (MAPI.md §6). */
export function buildCreateQrCode(input: QrCodeInput, ctx: RequestContext): SignedRequest {
  const ids = { storeId: input?.storeId };
  const v = new RequestValidator(SERVICES.CREATE, ids, ctx.charset);
  const biz_data = bizData(v, input);
  return sign(
    SERVICES.CREATE,
    {
      timestamp: formatGmt8(ctx.now()),
      notify_url: notifyUrl(v, input.notifyUrl, ctx),
      biz_type: QR_CODE_BIZ_TYPE,
      biz_data,
    },
    ctx,
    ids,
  );
}

/** MODIFY: replace the whole data set of an existing code (MAPI.md §7, [R] full replace). */
export function buildModifyQrCode(
  qrcode: string,
  input: QrCodeInput,
  ctx: RequestContext,
): SignedRequest {
  const ids = { qrcode, storeId: input?.storeId };
  const v = new RequestValidator(SERVICES.MODIFY, ids, ctx.charset);
  const code = qrcodeParam(v, qrcode);
  const biz_data = bizData(v, input);
  return sign(
    SERVICES.MODIFY,
    {
      timestamp: formatGmt8(ctx.now()),
      notify_url: notifyUrl(v, input.notifyUrl, ctx),
      biz_type: QR_CODE_BIZ_TYPE,
      qrcode: code,
      biz_data,
    },
    ctx,
    ids,
  );
}

/** MODIFYSTATUS: STOP, RESTART or DELETE a code (MAPI.md §8). */
export function buildSetQrCodeStatus(
  qrcode: string,
  status: QrCodeStatusChange,
  ctx: RequestContext,
): SignedRequest {
  const ids = { qrcode };
  const v = new RequestValidator(SERVICES.MODIFYSTATUS, ids, ctx.charset);
  const code = qrcodeParam(v, qrcode);
  if (status !== 'STOP' && status !== 'RESTART' && status !== 'DELETE')
    v.fail('status', 'must be STOP, RESTART or DELETE');
  return sign(
    SERVICES.MODIFYSTATUS,
    {
      timestamp: formatGmt8(ctx.now()),
      notify_url: notifyUrl(v, undefined, ctx),
      biz_type: QR_CODE_BIZ_TYPE,
      qrcode: code,
      status,
    },
    ctx,
    ids,
  );
}

function tradeRef(v: RequestValidator, ref: TradeRef): TradeRef {
  if (typeof ref !== 'object' || ref === null) v.fail('outTradeNo', 'is required');
  const outTradeNo = v.required('outTradeNo', ref.outTradeNo, { max: 64, pattern: ID_TEXT });
  const tradeNo = v.text('tradeNo', ref.tradeNo, { max: 64, min: 16, pattern: ID_TEXT });
  return tradeNo === undefined ? { outTradeNo } : { outTradeNo, tradeNo };
}

/** QUERY: `partner_trans_id` always, `alipay_trans_id` when known (MAPI.md §9). */
export function buildQuery(ref: TradeRef, ctx: RequestContext): SignedRequest {
  const ids = { outTradeNo: ref?.outTradeNo, tradeNo: ref?.tradeNo };
  const checked = tradeRef(new RequestValidator(SERVICES.QUERY, ids, ctx.charset), ref);
  return sign(SERVICES.QUERY, queryFields(checked), ctx, ids);
}

/** CANCEL: full reversal on the GMT+8 transaction day (MAPI.md §10). */
export function buildCancel(ref: TradeRef, ctx: RequestContext): SignedRequest {
  const ids = { outTradeNo: ref?.outTradeNo, tradeNo: ref?.tradeNo };
  const checked = tradeRef(new RequestValidator(SERVICES.CANCEL, ids, ctx.charset), ref);
  const now = ctx.now();
  const timestamp = ctx.cancelTimestamp === 'gmt8' ? formatGmt8(now) : String(Math.trunc(now));
  return sign(SERVICES.CANCEL, { ...cancelFields(checked), timestamp }, ctx, ids);
}

/** REFUND, always synchronous (`is_sync=Y`) so the answer is final (MAPI.md §11). */
export function buildRefund(input: RefundInput, ctx: RequestContext): SignedRequest {
  const ids = { outTradeNo: input?.outTradeNo, tradeNo: input?.tradeNo, refundId: input?.refundId };
  const v = new RequestValidator(SERVICES.REFUND, ids, ctx.charset);
  const ref = tradeRef(v, input);
  const refundId = v.required('refundId', input.refundId, { max: 64, pattern: ID_TEXT });
  if (refundId === ref.outTradeNo) v.fail('refundId', 'must differ from outTradeNo');
  const amount = v.positiveMoney('amount', input.amount);
  // A merchant's free text: surrounding spaces are trimmed rather than refused (blank = none).
  const reason = v.text('reason', trimmed(input.reason), { max: 128 });
  const checked: RefundInput = {
    ...ref,
    refundId,
    amount,
    ...(reason === undefined ? {} : { reason }),
  };
  return sign(SERVICES.REFUND, refundFields(checked, ctx.refundReasonField), ctx, ids);
}

/** `value` without surrounding whitespace when it is a string; anything else unchanged. */
function trimmed(value: unknown): unknown {
  return typeof value === 'string' ? value.trim() : value;
}

/** `notify_verify`: is this `notify_id` really Alipay's? GET, plain-text answer (MAPI.md §12.4). */
export function buildNotifyVerify(notifyId: string, ctx: RequestContext): SignedRequest {
  const ids = { notifyId };
  const v = new RequestValidator(SERVICES.NOTIFY_VERIFY, ids, ctx.charset);
  const id = v.required('notifyId', notifyId, { max: 128, pattern: ID_TEXT });
  return sign(SERVICES.NOTIFY_VERIFY, { notify_id: id }, ctx, ids, {
    signed: ctx.signNotifyVerify,
    method: 'GET',
  });
}
