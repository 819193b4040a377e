import {
  AlipayBusinessError,
  AlipayGatewayError,
  AlipayOutcomeUnknownError,
  AlipayResponseError,
  AlipayRetryableBusinessError,
  AlipaySystemError,
  AlipayUnknownCodeError,
  type AlipayErrorContext,
  type AlipayServiceError,
} from './errors';
import { SERVICES, isMoneyMoving, isQrCodeService } from './services';

/**
 * Alipay codes -> error classes (MAPI.md §13). Known codes are listed once here; anything else
 * is an {@link AlipayUnknownCodeError}: final and loud, never guessed retryable or successful.
 */

/** Alipay internal errors: retry with back-off and the same IDs. */
export const SYSTEM_CODES: ReadonlySet<string> = new Set(['SYSTEM_ERROR', 'SYSTEM_EXCEPTION']);

/** Gateway-level (`is_success=F`) codes known to be final (MAPI.md §13.1). */
export const FINAL_GATEWAY_CODES: ReadonlySet<string> = new Set([
  'ILLEGAL_SIGN',
  'ILLEGAL_ARGUMENT',
  'INVALID_PARAMETER',
  'ILLEGAL_PARTNER',
  'ILLEGAL_USER',
  'ILLEGAL_AGENT',
  'ILLEGAL_SERVICE',
  'ILLEGAL_EXTERFACE',
  'ILLEGAL_PARTNER_EXTERFACE',
  'HAS_NO_PRIVILEGE',
  'EXTERFACE_IS_CLOSED',
  'ILLEGAL_TARGET_SERVICE',
  'ILLEGAL_SIGN_TYPE',
  'ILLEGAL_CHARSET',
  'ILLEGAL_ENCODING',
  'ILLEGAL_DIGEST_TYPE',
  'ILLEGAL_DIGEST',
  'ILLEGAL_DYN_MD5_KEY',
  'ILLEGAL_ENCRYPT',
  'ILLEGAL_SECURITY_PROFILE',
  'ILLEGAL_CLIENT_IP',
  'ILLEGAL_EXTER_INVOKE_IP',
  'ILLEGAL_REQUEST_REFERER',
  'ILLEGAL_ANTI_PHISHING_KEY',
  'ANTI_PHISHING_KEY_TIMEOUT',
  'SESSION_TIMEOUT',
  'ILLEGAL_ACCESS_SWITCH_SYSTEM',
  'PURCHASE_TRADE_NOT_EXIST',
]);

/** Business (`result_code=FAIL`) codes known to be final (MAPI.md §13.2). */
export const FINAL_BUSINESS_CODES: ReadonlySet<string> = new Set([
  'TRADE_NOT_EXIST',
  'TRANS_NOT_FOUND',
  'TRADE_HAS_CLOSE',
  'TRADE_STATUS_ERROR',
  'REASON_TRADE_BEEN_FREEZEN',
  'TRADE_BUYER_NOT_MATCH',
  'BUYER_NOT_EXIST',
  'BUYER_ENABLE_STATUS_FORBID',
  'BUYER_SELLER_EQUAL',
  'SELLER_NOT_EXIST',
  'REFUND_AMT_RESTRICTION',
  'REQUEST_AMOUNT_EXCEED',
  'RETURN_AMOUNT_EXCEED',
  'EXIST_FORBIDDEN_WORD',
  'CLIENT_VERSION_NOT_MATCH',
  'SOUNDWAVE_PARSER_FAIL',
  'REFUNDMENT_VALID_DATE_EXCEED',
  'REPEATED_REFUNDMENT_REQUEST',
  'CURRENCY_NOT_SAME',
  'ILLEGAL_ARGUMENT',
  'INVALID_PARAMETER',
  'PURCHASE_TRADE_NOT_EXIST',
]);

type Fields = Readonly<Record<string, string | undefined>>;

function clip(value: string | undefined, max: number): string | undefined {
  return value === undefined || value === '' ? undefined : value.slice(0, max);
}

/** The error of an `is_success=F` answer (or undefined code: unknown and loud). */
export function gatewayFailure(
  code: string | undefined,
  ctx: AlipayErrorContext,
): AlipayServiceError {
  const c: AlipayErrorContext = { ...ctx, alipayCode: clip(code, 64) };
  if (code !== undefined && SYSTEM_CODES.has(code)) {
    return new AlipaySystemError('gateway', { ...c, outcomeUnknown: isMoneyMoving(ctx.service) });
  }
  if (code !== undefined && FINAL_GATEWAY_CODES.has(code)) {
    return new AlipayGatewayError('gateway rejected the call', c);
  }
  return new AlipayUnknownCodeError(
    code === undefined ? 'is_success=F without an error code' : 'unknown gateway error code',
    c,
  );
}

/** The error of a `result_code=FAIL` business node. CANCEL's `retry_flag` wins over the code. */
export function businessFailure(fields: Fields, ctx: AlipayErrorContext): AlipayServiceError {
  const code = clip(fields['error'], 64) ?? clip(fields['detail_error_code'], 64);
  const c: AlipayErrorContext = {
    ...ctx,
    alipayCode: code,
    alipayDetail:
      clip(fields['detail_error_des'], 128) ??
      clip(fields['detail_error_code'] !== code ? fields['detail_error_code'] : undefined, 64),
  };
  if (ctx.service === SERVICES.CANCEL) {
    const flag = fields['retry_flag'];
    if (flag === 'Y')
      return new AlipayRetryableBusinessError('cancel failed, Alipay says retry', c);
    if (flag === 'N') {
      return code !== undefined && (FINAL_BUSINESS_CODES.has(code) || SYSTEM_CODES.has(code))
        ? new AlipayBusinessError('cancel failed, Alipay says do not retry', c)
        : new AlipayUnknownCodeError('cancel failed (retry_flag=N) with an unknown code', c);
    }
  }
  if (code !== undefined && SYSTEM_CODES.has(code)) {
    return new AlipaySystemError('business', { ...c, outcomeUnknown: isMoneyMoving(ctx.service) });
  }
  if (code !== undefined && FINAL_BUSINESS_CODES.has(code)) {
    return new AlipayBusinessError('business failure', c);
  }
  return new AlipayUnknownCodeError(
    code === undefined ? 'result_code=FAIL without an error code' : 'unknown business error code',
    c,
  );
}

/**
 * Checks the outcome of a verified business node; returns normally only on success.
 * `SUCCESS` -> ok; `FAIL` -> {@link businessFailure}; `UNKNOWN` -> retryable, outcome unknown;
 * anything else -> unknown code. QR-code answers may lack `result_code` ([R]): success unless
 * an `error` is present.
 */
export function assertBusinessSuccess(fields: Fields, ctx: AlipayErrorContext): void {
  const result = fields['result_code'];
  if (result === 'SUCCESS') return;
  if (result === 'FAIL') throw businessFailure(fields, ctx);
  if (result === 'UNKNOWN') {
    throw new AlipayOutcomeUnknownError({ ...ctx, alipayCode: clip(fields['error'], 64) });
  }
  if (result === undefined || result === '') {
    if (isQrCodeService(ctx.service)) {
      if (fields['error']) throw businessFailure(fields, ctx);
      return;
    }
    throw new AlipayResponseError('answer lacks result_code', {
      ...ctx,
      outcomeUnknown: isMoneyMoving(ctx.service),
    });
  }
  throw new AlipayUnknownCodeError('unknown result_code', { ...ctx, alipayCode: clip(result, 64) });
}
