/**
 * The bare baseline worker (a process of its own, like the engine's): BarePaymentWorkflow and
 * one no-op activity on BARE_TASK_QUEUE of TEMPORAL_ADDRESS. Benchmarks only.
 * Optional: BARE_MAX_CACHED_WORKFLOWS (the engine worker's WORKER_MAX_CACHED_WORKFLOWS twin).
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import * as activities from './activities';

async function main(): Promise<void> {
  const address = process.env.TEMPORAL_ADDRESS;
  const taskQueue = process.env.BARE_TASK_QUEUE;
  if (!address || !taskQueue) throw new Error('TEMPORAL_ADDRESS and BARE_TASK_QUEUE are required');
  const cache = process.env.BARE_MAX_CACHED_WORKFLOWS;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities,
    ...(cache ? { maxCachedWorkflows: Number(cache) } : {}),
  });
  console.log(JSON.stringify({ msg: 'bare worker started', taskQueue }));
  await worker.run();
  await connection.close();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
