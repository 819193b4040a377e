import { EngineError } from '../errors';

/**
 * The gateway layer's closed error hierarchy.
 *
 * Each class has a FIXED `retryable` value, so its class name can be listed once in a Temporal
 * retry policy's `nonRetryableErrorTypes` (see {@link NON_RETRYABLE_ALIPAY_ERRORS}); activities do
 * not need to translate. Errors carry the MAPI service, the IDs involved and Alipay's code, and
 * never a key, a `sign` value or a full signed URL: messages are built from those fields only,
 * and low-level causes are reduced to a redacted code + message.
 */

/** The IDs a failed call was about, in domain names. */
export interface AlipayIds {
  readonly outTradeNo?: string;
  readonly tradeNo?: string;
  readonly refundId?: string;
  readonly qrcode?: string;
  readonly notifyId?: string;
  readonly storeId?: string;
}

/** Everything that describes a failed gateway call. */
export interface AlipayErrorContext {
  /** MAPI `service` value of the call. */
  readonly service: string;
  readonly ids?: AlipayIds;
  /** Alipay's code (`error`, `detail_error_code`, …) when the gateway gave one. */
  readonly alipayCode?: string;
  /** Alipay's human-readable detail (`detail_error_des`) when present. */
  readonly alipayDetail?: string;
  /**
   * True when the call may have moved money although no final answer was read (CANCEL and
   * REFUND after the request may have reached Alipay). Confirm with QUERY or a retry with the
   * same IDs before assuming anything.
   */
  readonly outcomeUnknown?: boolean;
  readonly httpStatus?: number;
  /** Redacted description of a low-level cause (undici / parser error). */
  readonly causeCode?: string;
  readonly causeMessage?: string;
}

/** Removes anything that could be a signature or secret from a low-level message. */
export function redact(text: string): string {
  return text
    .replace(/([?&]|\b)sign=[^&\s"']*/gi, '$1sign=[redacted]')
    .replace(/https?:\/\/[^\s"']*\?[^\s"']*/gi, '[url redacted]')
    .slice(0, 300);
}

function describeIds(ids: AlipayIds | undefined): string {
  if (!ids) return '';
  const parts = Object.entries(ids)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${String(v).slice(0, 80)}`);
  return parts.length ? ` [${parts.join(' ')}]` : '';
}

/** Base of every error raised while talking to `gateway.do`. */
export abstract class AlipayServiceError extends EngineError {
  readonly service: string;
  readonly ids: AlipayIds;
  readonly alipayCode: string | undefined;
  readonly alipayDetail: string | undefined;
  readonly outcomeUnknown: boolean;
  readonly httpStatus: number | undefined;
  readonly causeCode: string | undefined;
  readonly causeMessage: string | undefined;

  constructor(summary: string, ctx: AlipayErrorContext) {
    const code = ctx.alipayCode ? ` code=${ctx.alipayCode}` : '';
    const status = ctx.httpStatus !== undefined ? ` http=${ctx.httpStatus}` : '';
    const unknown = ctx.outcomeUnknown ? ' (outcome unknown: confirm before acting)' : '';
    super(`${ctx.service}: ${summary}${code}${status}${describeIds(ctx.ids)}${unknown}`);
    this.service = ctx.service;
    this.ids = Object.fromEntries(
      Object.entries(ctx.ids ?? {}).filter(([, v]) => v !== undefined && v !== ''),
    ) as AlipayIds;
    this.alipayCode = ctx.alipayCode;
    this.alipayDetail = ctx.alipayDetail;
    this.outcomeUnknown = ctx.outcomeUnknown ?? false;
    this.httpStatus = ctx.httpStatus;
    this.causeCode = ctx.causeCode;
    this.causeMessage = ctx.causeMessage === undefined ? undefined : redact(ctx.causeMessage);
  }
}

/** Connection refused/reset, DNS failure, HTTP 5xx/408/429, aborted body. Retryable. */
export class AlipayTransportError extends AlipayServiceError {
  readonly code = 'ALIPAY_TRANSPORT';
  readonly retryable = true;
}

/** Connect or read timeout. Retryable; `outcomeUnknown` for money-moving calls once sent. */
export class AlipayTimeoutError extends AlipayServiceError {
  readonly code = 'ALIPAY_TIMEOUT';
  readonly retryable = true;
  constructor(
    readonly phase: 'connect' | 'read',
    ctx: AlipayErrorContext,
  ) {
    super(`${phase} timeout`, ctx);
  }
}

/** `SYSTEM_ERROR` / `SYSTEM_EXCEPTION`, at gateway (`is_success=F`) or business level. Retryable. */
export class AlipaySystemError extends AlipayServiceError {
  readonly code = 'ALIPAY_SYSTEM_ERROR';
  readonly retryable = true;
  constructor(
    readonly level: 'gateway' | 'business',
    ctx: AlipayErrorContext,
  ) {
    super(`Alipay system error (${level})`, ctx);
  }
}

/** `is_success=F` with a known, final code (ILLEGAL_SIGN, ILLEGAL_PARTNER, …) or HTTP 4xx. */
export class AlipayGatewayError extends AlipayServiceError {
  readonly code = 'ALIPAY_GATEWAY_REJECTED';
  readonly retryable = false;
}

/** `result_code=FAIL` with a known, final code (or CANCEL's `retry_flag=N`). */
export class AlipayBusinessError extends AlipayServiceError {
  readonly code = 'ALIPAY_BUSINESS_FAILED';
  readonly retryable = false;
}

/** `result_code=FAIL` that Alipay says may be retried (CANCEL `retry_flag=Y`). Same IDs. */
export class AlipayRetryableBusinessError extends AlipayServiceError {
  readonly code = 'ALIPAY_BUSINESS_RETRY';
  readonly retryable = true;
}

/** `result_code=UNKNOWN`: Alipay itself does not know yet. Retry with the same IDs. */
export class AlipayOutcomeUnknownError extends AlipayServiceError {
  readonly code = 'ALIPAY_OUTCOME_UNKNOWN';
  readonly retryable = true;
  constructor(ctx: AlipayErrorContext) {
    super('Alipay reported result UNKNOWN', { ...ctx, outcomeUnknown: true });
  }
}

/**
 * A code (or status / result value) this engine has never seen. Final and loud: alert,
 * reconcile, then teach the classifier. Never guessed to be retryable or successful.
 */
export class AlipayUnknownCodeError extends AlipayServiceError {
  readonly code = 'ALIPAY_UNKNOWN_CODE';
  readonly retryable = false;
}

/** Response signature missing or wrong (or signed with an unexpected sign type). */
export class AlipaySignatureError extends AlipayServiceError {
  readonly code = 'ALIPAY_BAD_SIGNATURE';
  readonly retryable = false;
}

/** Not XML, malformed/truncated/oversized XML, or no readable business node. Retryable. */
export class AlipayResponseError extends AlipayServiceError {
  readonly code = 'ALIPAY_BAD_RESPONSE';
  readonly retryable = true;
}

/** The answer is about something else: echoed service, partner or IDs differ from the request. */
export class AlipayResponseMismatchError extends AlipayServiceError {
  readonly code = 'ALIPAY_RESPONSE_MISMATCH';
  readonly retryable = false;
}

/** An input refused before anything was sent; `field` names it (domain name). */
export class AlipayRequestValidationError extends AlipayServiceError {
  readonly code = 'ALIPAY_INVALID_REQUEST';
  readonly retryable = false;
  constructor(
    readonly field: string,
    readonly reason: string,
    ctx: AlipayErrorContext,
  ) {
    super(`invalid ${field}: ${reason}`, ctx);
  }
}

/** A signing key or MD5 key that cannot be used. Names the key's label, never its content. */
export class KeyConfigError extends EngineError {
  readonly code = 'ALIPAY_KEY_CONFIG';
  readonly retryable = false;
  constructor(
    readonly keyLabel: string,
    reason: string,
  ) {
    super(`${keyLabel}: ${reason}`);
  }
}

/** A gateway configuration value that cannot work; `field` names it (never its value if secret). */
export class GatewayConfigError extends EngineError {
  readonly code = 'ALIPAY_CONFIG';
  readonly retryable = false;
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`gateway config ${field}: ${reason}`);
  }
}

/** A charset that is unsupported, or bytes/text that do not fit the declared charset. */
export class CharsetError extends EngineError {
  readonly code = 'ALIPAY_CHARSET';
  readonly retryable = false;
}

/** Why a gateway XML document was refused. */
export type MalformedXmlReason =
  | 'EMPTY'
  | 'TOO_LARGE'
  | 'NOT_XML'
  | 'FORBIDDEN_DECLARATION'
  | 'NOT_WELL_FORMED'
  | 'UNEXPECTED_STRUCTURE';

/** Thrown by the XML helpers; the gateway wraps it into {@link AlipayResponseError}. */
export class MalformedXmlError extends EngineError {
  readonly code = 'ALIPAY_MALFORMED_XML';
  readonly retryable = true;
  constructor(
    readonly reason: MalformedXmlReason,
    detail: string,
  ) {
    super(`malformed gateway XML (${reason}): ${detail}`);
  }
}

/** Why an `application/x-www-form-urlencoded` body could not be decoded. */
export type MalformedFormReason =
  'MALFORMED_ENCODING' | 'DUPLICATE_FIELD' | 'CHARSET' | 'TOO_MANY_FIELDS';

/** A form body (notification, or a request the sandbox receives) that cannot be decoded. */
export class MalformedFormError extends EngineError {
  readonly code = 'ALIPAY_MALFORMED_FORM';
  readonly retryable = false;
  constructor(
    readonly reason: MalformedFormReason,
    detail: string,
    readonly field?: string,
  ) {
    super(`malformed form body (${reason}): ${detail}`);
  }
}

/** Why a notification body was refused before or without signature checking. */
export type NotificationFormatReason =
  'EMPTY' | 'TOO_LARGE' | 'MALFORMED_ENCODING' | 'DUPLICATE_FIELD' | 'MISSING_FIELD' | 'CHARSET';

/** A notification body that cannot be read as a MAPI form. Answer non-`success`. */
export class NotificationFormatError extends EngineError {
  readonly code = 'ALIPAY_NOTIFICATION_MALFORMED';
  readonly retryable = false;
  constructor(
    readonly reason: NotificationFormatReason,
    detail: string,
    readonly field?: string,
  ) {
    super(`notification refused (${reason}): ${detail}`);
  }
}

/** Why a notification's signature was refused. */
export type NotificationSignatureReason = 'MISSING_SIGN' | 'SIGN_TYPE_MISMATCH' | 'BAD_SIGNATURE';

/** A notification whose signature is missing, of the wrong type, or wrong. Never credit it. */
export class NotificationSignatureError extends EngineError {
  readonly code = 'ALIPAY_NOTIFICATION_BAD_SIGNATURE';
  readonly retryable = false;
  constructor(
    readonly reason: NotificationSignatureReason,
    readonly notifyId: string | undefined,
  ) {
    super(
      `notification signature refused (${reason})${notifyId ? ` notifyId=${notifyId.slice(0, 64)}` : ''}`,
    );
  }
}

/**
 * Class names of every non-retryable gateway-layer error: feed them to the activity retry
 * policy's `nonRetryableErrorTypes`.
 */
export const NON_RETRYABLE_ALIPAY_ERRORS: readonly string[] = Object.freeze([
  AlipayGatewayError.name,
  AlipayBusinessError.name,
  AlipayUnknownCodeError.name,
  AlipaySignatureError.name,
  AlipayResponseMismatchError.name,
  AlipayRequestValidationError.name,
  KeyConfigError.name,
  GatewayConfigError.name,
  CharsetError.name,
  MalformedFormError.name,
  NotificationFormatError.name,
  NotificationSignatureError.name,
]);
