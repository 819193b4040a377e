import { EngineError } from './errors';

/**
 * The errors of the merchant client (`src/client.ts`), one class per thing a caller can do
 * something about. The HTTP API maps each `code` to a status; a service using the client directly
 * can `instanceof` them. Temporal's own error types never leak out of the client.
 */

/** No payment with this `out_trade_no` is known to the engine. */
export class PaymentNotFoundError extends EngineError {
  readonly code = 'PAYMENT_NOT_FOUND';
  readonly retryable = false;
  constructor(readonly outTradeNo: string) {
    super(`no payment ${outTradeNo}`);
  }
}

/** No code for this store slot (never created, or deleted). */
export class QrCodeNotFoundError extends EngineError {
  readonly code = 'QR_CODE_NOT_FOUND';
  readonly retryable = false;
  constructor(
    readonly storeId: string,
    readonly withFee: boolean,
  ) {
    super(`no ${withFee ? 'fee ' : ''}code for store ${storeId}`);
  }
}

/** A request refused by the client before anything reached Temporal; `field` names the culprit. */
export class InvalidRequestError extends EngineError {
  readonly code = 'INVALID_REQUEST';
  readonly retryable = false;
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/**
 * A request the workflow refused before anything was sent to Alipay (its Update validator):
 * `INVALID` when the request itself is wrong, `CONFLICT` when it contradicts the current state
 * (over the balance, window closed, not yet paid, code stopped…). Nothing changed.
 */
export class RequestRejectedError extends EngineError {
  readonly code = 'REQUEST_REJECTED';
  readonly retryable = false;
  constructor(
    readonly kind: 'INVALID' | 'CONFLICT',
    readonly reason: string,
    readonly field?: string,
  ) {
    super(reason);
  }
}

/**
 * The operation was accepted but Alipay refused it or it could not be completed (the payment or
 * code is unchanged, or — for a refund whose outcome is unknown — the ledger says UNKNOWN).
 */
export class OperationFailedError extends EngineError {
  readonly code = 'OPERATION_FAILED';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
  }
}

/**
 * Temporal could not be reached, or did not answer in time. Nothing is lost: repeat the same
 * request (refunds with the same refund ID) to get its result.
 */
export class EngineUnavailableError extends EngineError {
  readonly code = 'ENGINE_UNAVAILABLE';
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** No refund with this ID on the payment. */
export class RefundNotFoundError extends EngineError {
  readonly code = 'REFUND_NOT_FOUND';
  readonly retryable = false;
  constructor(
    readonly outTradeNo: string,
    readonly refundId: string,
  ) {
    super(`no refund ${refundId} on payment ${outTradeNo}`);
  }
}
