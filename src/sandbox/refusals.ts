import { EngineError } from '../errors';

/**
 * MAPI error codes the sandbox answers with, and where each comes from (MAPI.md §13).
 * Codes tagged [R] are guesses: the official per-service error tables were not readable.
 */
export const MapiError = {
  /** Signature mismatch [S]. */
  ILLEGAL_SIGN: 'ILLEGAL_SIGN',
  /** Missing or malformed parameter [S]. */
  ILLEGAL_ARGUMENT: 'ILLEGAL_ARGUMENT',
  /** Unknown partner [S]. */
  ILLEGAL_PARTNER: 'ILLEGAL_PARTNER',
  /** Unknown or missing service [S]. */
  ILLEGAL_SERVICE: 'ILLEGAL_SERVICE',
  /** `sign_type` not configured for the partner [S]. */
  ILLEGAL_SIGN_TYPE: 'ILLEGAL_SIGN_TYPE',
  /** `_input_charset` not supported [S]. */
  ILLEGAL_CHARSET: 'ILLEGAL_CHARSET',
  /** `timestamp` outside the 30-minute window; the real code is unknown (MAPI.md §13.1) [R]. */
  SESSION_TIMEOUT: 'SESSION_TIMEOUT',
  /** Alipay internal error, retryable [S]. */
  SYSTEM_ERROR: 'SYSTEM_ERROR',
  /** Trade not found (QUERY/CANCEL/REFUND business node) [S]. */
  TRADE_NOT_EXIST: 'TRADE_NOT_EXIST',
  /** Trade already closed [S]. */
  TRADE_HAS_CLOSE: 'TRADE_HAS_CLOSE',
  /** Status does not allow the operation [S]. */
  TRADE_STATUS_ERROR: 'TRADE_STATUS_ERROR',
  /** Refund above what is still refundable (MAPI.md §11.4 example) [S][R]. */
  REQUEST_AMOUNT_EXCEED: 'REQUEST_AMOUNT_EXCEED',
  /** Refund currency differs from the trade's (name from `forex_refund`) [R]. */
  CURRENCY_NOT_SAME: 'CURRENCY_NOT_SAME',
  /** `partner_refund_id` reused with different parameters (name from `forex_refund`) [R]. */
  REPEATED_REFUNDMENT_REQUEST: 'REPEATED_REFUNDMENT_REQUEST',
  /** Refund period over (name from `forex_refund`) [R]. */
  REFUNDMENT_VALID_DATE_EXCEED: 'REFUNDMENT_VALID_DATE_EXCEED',
} as const;

/**
 * Sandbox-specific reasons sent as `detail_error_code` next to a documented `error` code.
 * The real codes for these cases are unknown [R], so the `error` stays within MAPI.md §13's
 * vocabulary (a client classifies it as final) and the detail says precisely what happened.
 */
export const DetailCode = {
  /** CANCEL after the GMT+8 transaction day; `error=TRADE_STATUS_ERROR`, `retry_flag=N`. */
  CANCEL_TIME_EXPIRED: 'CANCEL_TIME_EXPIRED',
  /** CANCEL of a partly refunded trade; `error=TRADE_STATUS_ERROR`. */
  TRADE_PARTLY_REFUNDED: 'TRADE_PARTLY_REFUNDED',
  /** MODIFY/MODIFYSTATUS on a code the partner does not have; `error=ILLEGAL_ARGUMENT`. */
  QRCODE_NOT_EXIST: 'QRCODE_NOT_EXIST',
  /** Change not allowed in the code's status (RESTART of a DELETED code); `error=ILLEGAL_ARGUMENT`. */
  QRCODE_STATUS_ERROR: 'QRCODE_STATUS_ERROR',
  /** MODIFY would change a field that cannot change (MAPI.md §7.1); `error=ILLEGAL_ARGUMENT`. */
  QRCODE_FIELD_IMMUTABLE: 'QRCODE_FIELD_IMMUTABLE',
} as const;

/**
 * The gateway refuses the call itself: answered as `is_success=F` with a top-level `<error>`
 * (MAPI.md §2.3). `detail` is the sandbox's explanation, sent in the `X-Sandbox-Reason` header
 * because a MAPI F answer has no room for text.
 */
export class GatewayRejection extends EngineError {
  readonly retryable: boolean;
  constructor(
    readonly code: string,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
    this.retryable = code === MapiError.SYSTEM_ERROR;
  }
}

/**
 * The call was accepted but the business operation refused: answered as `is_success=T` with
 * `result_code=FAIL` and `error` in the signed business node. `fields` are added to the node
 * (CANCEL's `retry_flag`, a `detail_error_code` from {@link DetailCode}).
 */
export class BusinessRefusal extends EngineError {
  readonly retryable = false;
  constructor(
    readonly code: string,
    readonly detail: string,
    readonly fields: Readonly<Record<string, string>> = {},
  ) {
    super(`${code}: ${detail}`);
  }
}
