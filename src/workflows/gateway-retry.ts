import type { RetryPolicy } from '@temporalio/common';

/**
 * Retry classification of gateway activities, for workflow code.
 *
 * Workflows may not import values from `src/alipay` (lint rule: nothing that could pull I/O into
 * the bundle), so the class names of `NON_RETRYABLE_ALIPAY_ERRORS` (src/alipay/errors.ts) are
 * repeated here; `test/workflows/qrcode.test.ts` asserts that both lists are the same. Activity
 * errors are thrown as they are, so their class name is the Temporal failure type.
 */
export const NON_RETRYABLE_GATEWAY_ERRORS: readonly string[] = Object.freeze([
  'AlipayGatewayError',
  'AlipayBusinessError',
  'AlipayUnknownCodeError',
  'AlipaySignatureError',
  'AlipayResponseMismatchError',
  'AlipayRequestValidationError',
  'KeyConfigError',
  'GatewayConfigError',
  'CharsetError',
  'MalformedFormError',
  'NotificationFormatError',
  'NotificationSignatureError',
]);

/**
 * Back-off for gateway calls: transport faults, timeouts, SYSTEM_ERROR and UNKNOWN are retried
 * (1 s, 2 s, 4 s … capped at 1 min); the final classes above fail at once. Callers bound the
 * total time with a schedule-to-close timeout where someone is waiting for the answer.
 */
export function gatewayRetryPolicy(extraNonRetryable: readonly string[] = []): RetryPolicy {
  return {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: [...NON_RETRYABLE_GATEWAY_ERRORS, ...extraNonRetryable],
  };
}
