/**
 * The bare baseline: the least a Temporal workflow can do for each engine figure, on the same
 * server, so that "engine / bare" isolates what the engine adds. Deterministic workflow code.
 *
 * - ingest: signal-with-start `notified` (the engine: one signal-with-start per notification);
 * - end to end: the signal, then one no-op activity, then `state` reads DONE;
 * - refund: the Update `refund` runs one no-op activity, one at a time per workflow (the engine
 *   serialises refunds of a payment too: a balance cannot be checked twice at once);
 * - open payments: the workflow then waits (open, like a PAID payment in its refund window).
 */
import {
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type * as activities from './activities';

export const bareNotifiedSignal = defineSignal<[unknown]>('notified');
export const bareStateQuery = defineQuery<string>('state');
export const bareRefundUpdate = defineUpdate<string, [{ refundId: string }]>('refund');
export const bareCloseSignal = defineSignal('close');

const { noop } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });

export async function BarePaymentWorkflow(): Promise<void> {
  let status = 'WAITING';
  let notified = false;
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();
  setHandler(bareNotifiedSignal, () => void (notified = true));
  setHandler(bareCloseSignal, () => void (closed = true));
  setHandler(bareStateQuery, () => status);
  setHandler(bareRefundUpdate, (req) => {
    const run = queue.then(async () => {
      await noop();
      return req.refundId;
    });
    queue = run.catch(() => undefined);
    return run;
  });
  await condition(() => notified);
  await noop();
  status = 'DONE';
  // Visible to `describe` (no worker task): how benchmarks see that the work is done, as they
  // see an engine payment's PaymentStatus.
  upsertSearchAttributes({ PaymentStatus: ['DONE'] });
  await condition(() => closed);
}
