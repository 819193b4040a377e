import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig, type EngineConfig } from './config';

/**
 * The worker process: runs the engine's workflows and activities on the configured task queue.
 * Shuts down gracefully on SIGINT/SIGTERM (the SDK's default shutdown signals): in-flight
 * activities are allowed to finish before the process exits.
 */
export async function createWorker(config: EngineConfig, connection?: NativeConnection): Promise<Worker> {
  const conn = connection ?? (await NativeConnection.connect(config.temporal.connection));
  return Worker.create({
    connection: conn,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities: {},
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const worker = await createWorker(config);
  console.log(
    JSON.stringify({ msg: 'worker started', taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace }),
  );
  await worker.run();
  console.log(JSON.stringify({ msg: 'worker stopped' }));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
