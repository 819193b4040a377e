import type { Client } from '@temporalio/client';
import { sleep } from './load';

/**
 * Waits (untimed, between rounds) until the workflows a round started have done their work, so
 * one side's leftovers do not slow the other side's next round. Checks the last `sample`
 * workflows (they are served roughly in order) through `describe` (a server read, no worker task).
 */
export async function settle(
  client: Client,
  workflowIds: readonly string[],
  done: (searchAttributes: Record<string, unknown>) => boolean,
  options: { sample?: number; timeoutMs?: number } = {},
): Promise<boolean> {
  const ids = workflowIds.slice(-(options.sample ?? 16));
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (const id of ids) {
    for (;;) {
      const d = await client.workflow.getHandle(id).describe();
      if (done(d.searchAttributes as Record<string, unknown>)) break;
      if (Date.now() > deadline) return false;
      await sleep(50);
    }
  }
  return true;
}

export const paymentSettled = (sa: Record<string, unknown>): boolean => {
  const status = (sa.PaymentStatus as string[] | undefined)?.[0];
  return status !== undefined && status !== 'AWAITING_NOTIFICATION' && status !== 'CONFIRMING';
};

export const bareSettled = (sa: Record<string, unknown>): boolean =>
  (sa.PaymentStatus as string[] | undefined)?.[0] === 'DONE';
