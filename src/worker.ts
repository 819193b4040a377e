import { createServer } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { createReconciliationActivities } from './activities/reconciliation';
import { AlipayGateway } from './alipay';
import { loadConfig, type EngineConfig } from './config';
import { EngineMetrics } from './observability/metrics';
import { installRuntime } from './observability/runtime';
import { ensureReconciliationSchedule } from './reconciliation/schedule';
import { NotificationIntake } from './server/notification-intake';

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
  options: {
    metrics?: EngineMetrics;
    /** Create (or update) the daily reconciliation Schedule (default: `RECON_SCHEDULE`). */
    ensureSchedule?: boolean;
  } = {},
): Promise<EngineWorker> {
  const { metrics } = options;
  const gateway = new AlipayGateway(
    config.alipay.gateway,
    metrics ? { observe: metrics.observeGateway } : {},
  );
  const conn = connection ?? (await NativeConnection.connect(config.temporal.connection));
  // Reconciliation reads payments and starts or settles them through Temporal's client API.
  const recon = config.reconciliation;
  const clientConnection = recon ? await Connection.connect(config.temporal.connection) : undefined;
  const client = clientConnection
    ? new Client({ connection: clientConnection, namespace: config.temporal.namespace })
    : undefined;
  const partnerId = config.alipay.gateway.partner;
  if (recon && client && (options.ensureSchedule ?? recon.schedule)) {
    const done = await ensureReconciliationSchedule(client, {
      partnerId,
      taskQueue: config.temporal.taskQueue,
      reconciliation: recon,
    });
    console.log(
      JSON.stringify({
        msg: `reconciliation schedule ${done}`,
        hourGmt8: recon.scheduleHourGmt8,
        partnerId,
      }),
    );
  }
  const worker = await Worker.create({
    connection: conn,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: require.resolve('./workflows'),
    ...(config.temporal.maxCachedWorkflows !== undefined
      ? { maxCachedWorkflows: config.temporal.maxCachedWorkflows }
      : {}),
    activities: {
      ...createActivities({
        gateway,
        partnerId: config.alipay.gateway.partner,
        verifyNotifyIds: config.alipay.verifyNotifyIds,
        ...(config.merchantHook ? { merchantHook: config.merchantHook } : {}),
        ...(metrics ? { metrics } : {}),
      }),
      ...(recon && client
        ? createReconciliationActivities({
            client,
            intake: new NotificationIntake({
              client,
              partnerId,
              taskQueue: config.temporal.taskQueue,
              payments: config.payments,
            }),
            partnerId,
            signType: config.alipay.gateway.signType,
            sftp: recon.sftp,
            charset: recon.charset,
            ...(metrics ? { metrics } : {}),
          })
        : {}),
    },
  });
  return {
    worker,
    async run() {
      try {
        await worker.run();
      } finally {
        await gateway.close();
        await clientConnection?.close();
        if (!connection) await conn.close();
      }
    },
  };
}

/**
 * `npm run worker`: a worker alone (scale out by running several). With WORKER_METRICS_ADDRESS
 * set it serves `GET /metrics` there: its gateway-call and refund counters followed by the
 * Temporal runtime's metrics (in `npm start` the HTTP service's `/metrics` serves the same).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const runtimeMetricsUrl = installRuntime({
    ...(config.observability.runtimeMetricsAddress
      ? { metricsBindAddress: config.observability.runtimeMetricsAddress }
      : {}),
  });
  const metrics = new EngineMetrics(runtimeMetricsUrl ? { runtimeMetricsUrl } : {});
  const { run } = await createWorker(config, undefined, { metrics });
  const metricsServer = config.observability.workerMetricsAddress
    ? await serveMetrics(metrics, config.observability.workerMetricsAddress)
    : undefined;
  console.log(
    JSON.stringify({
      msg: 'worker started',
      taskQueue: config.temporal.taskQueue,
      namespace: config.temporal.namespace,
      gateway: config.alipay.embeddedSandbox
        ? 'embedded sandbox'
        : config.alipay.gateway.gatewayUrl,
      ...(metricsServer ? { metrics: metricsServer.url } : {}),
    }),
  );
  try {
    await run();
  } finally {
    await metricsServer?.close();
  }
  console.log(JSON.stringify({ msg: 'worker stopped' }));
}

/** A bare `GET /metrics` endpoint for a worker process (no HTTP service in it). */
async function serveMetrics(
  metrics: EngineMetrics,
  address: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    address.slice(address.lastIndexOf(':') + 1),
  ];
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.render().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(port), host, resolve);
  });
  return {
    url: `http://${address}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
