import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { AlipayGateway } from './alipay';
import { loadConfig, type EngineConfig } from './config';
import { EngineMetrics } from './observability/metrics';
import { installRuntime } from './observability/runtime';

export interface EngineWorker {
  worker: Worker;
  /** Runs until shutdown (SIGINT/SIGTERM or `worker.shutdown()`), then releases the gateway pool. */
  run(): Promise<void>;
}

/**
 * The worker: the engine's workflows and activities on the configured task queue. The gateway
 * client is built here once (its constructor runs the key self-test, so a misconfigured key stops
 * start-up with an error naming it). Shutdown is graceful: on SIGINT/SIGTERM (the SDK's default
 * shutdown signals) in-flight activities may finish before the process exits.
 */
export async function createWorker(
  config: EngineConfig,
  connection?: NativeConnection,
  options: { metrics?: EngineMetrics } = {},
): Promise<EngineWorker> {
  const { metrics } = options;
  const gateway = new AlipayGateway(
    config.alipay.gateway,
    metrics ? { observe: metrics.observeGateway } : {},
  );
  const conn = connection ?? (await NativeConnection.connect(config.temporal.connection));
  const worker = await Worker.create({
    connection: conn,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities: createActivities({
      gateway,
      partnerId: config.alipay.gateway.partner,
      verifyNotifyIds: config.alipay.verifyNotifyIds,
      ...(config.merchantHook ? { merchantHook: config.merchantHook } : {}),
      ...(metrics ? { metrics } : {}),
    }),
  });
  return {
    worker,
    async run() {
      try {
        await worker.run();
      } finally {
        await gateway.close();
        if (!connection) await conn.close();
      }
    },
  };
}

/**
 * `npm run worker`: a worker alone (scale out by running several). Alone it exports the Temporal
 * runtime's metrics on TEMPORAL_METRICS_ADDRESS; the engine's own gateway and refund counters are
 * served by `/metrics` of the HTTP service when both run in one process (`npm start`).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  installRuntime({
    ...(config.observability.runtimeMetricsAddress
      ? { metricsBindAddress: config.observability.runtimeMetricsAddress }
      : {}),
  });
  const { run } = await createWorker(config);
  console.log(
    JSON.stringify({
      msg: 'worker started',
      taskQueue: config.temporal.taskQueue,
      namespace: config.temporal.namespace,
      gateway: config.alipay.embeddedSandbox
        ? 'embedded sandbox'
        : config.alipay.gateway.gatewayUrl,
    }),
  );
  await run();
  console.log(JSON.stringify({ msg: 'worker stopped' }));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
