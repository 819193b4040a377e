import assert from 'node:assert/strict';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { UpdateRejection } from '../../src/workflows/payment-types';

/**
 * Asserts an Update failed with an ApplicationFailure of `type` whose message matches and, when
 * given, whose `details[0]` is the refusal's category.
 */
export async function assertUpdateFails(
  promise: Promise<unknown>,
  type: string,
  message: RegExp,
  detail?: UpdateRejection,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(
      err instanceof WorkflowUpdateFailedError,
      `expected an Update failure, got ${String(err)}`,
    );
    assert.ok(err.cause instanceof ApplicationFailure, `cause: ${String(err.cause)}`);
    assert.equal(err.cause.type, type);
    assert.match(err.cause.message, message);
    if (detail) assert.deepEqual(err.cause.details?.[0], detail, err.cause.message);
    return true;
  });
}
