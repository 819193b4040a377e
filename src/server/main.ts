import type { FastifyInstance } from 'fastify';
import { AlipayGateway } from '../alipay';
import { PaymentEngineClient } from '../client';
import { loadConfig, type EngineConfig } from '../config';
import { EngineMetrics } from '../observability/metrics';
import { installRuntime } from '../observability/runtime';
import { buildAdminService, buildHttpService } from './app';
import { QrRenderer } from './qr-image';

export interface HttpService {
  app: FastifyInstance;
  /** `http://host:port` the service listens on. */
  url: string;
  /** The operator listener: `/metrics`, `/readyz`. */
  admin: FastifyInstance;
  /** `http://host:port` of the operator listener. */
  adminUrl: string;
  engine: PaymentEngineClient;
  close(): Promise<void>;
}

export interface HttpServiceOptions {
  /** Shared with an in-process worker (its gateway calls and refunds land in the same registry). */
  metrics?: EngineMetrics;
  /** An already connected client (tests); otherwise one is connected from the config. */
  engine?: PaymentEngineClient;
  logLevel?: EngineConfig['observability']['logLevel'] | 'silent';
  /** Where log lines go (default stdout). */
  logStream?: { write(line: string): void };
}

/**
 * Starts the HTTP service from the validated config. Building the gateway client runs the key
 * self-test first, so a bad key stops start-up with an error naming the variable.
 */
export async function startHttpService(
  config: EngineConfig,
  options: HttpServiceOptions = {},
): Promise<HttpService> {
  const gateway = new AlipayGateway(config.alipay.gateway);
  const engine = options.engine ?? (await PaymentEngineClient.connect(config));
  const { http } = config;
  const qr = new QrRenderer({ threads: http.qrRenderThreads });
  const logging = {
    logLevel: options.logLevel ?? config.observability.logLevel,
    ...(options.logStream ? { logStream: options.logStream } : {}),
  };
  const metrics = options.metrics ? { metrics: options.metrics } : {};
  const app = buildHttpService({
    engine,
    gateway,
    taskQueue: config.temporal.taskQueue,
    payments: config.payments,
    apiKeys: http.apiKeys,
    notifyMaxBytes: http.notifyMaxBytes,
    apiMaxBytes: http.apiMaxBytes,
    rateLimitPerMinute: http.rateLimitPerMinute,
    qr,
    qrMaxSize: http.qrMaxSize,
    ...logging,
    ...metrics,
  });
  const admin = buildAdminService({ temporal: engine.temporal, gateway, ...logging, ...metrics });
  const release = async () => {
    await app.close();
    await admin.close();
    await qr.close();
    await gateway.close();
    if (!options.engine) await engine.close();
  };
  try {
    await app.listen({ host: http.host, port: http.port });
    await admin.listen({ host: http.adminHost, port: http.adminPort });
  } catch (err) {
    await release();
    throw err;
  }
  return {
    app,
    url: urlOf(app, http.host),
    admin,
    adminUrl: urlOf(admin, http.adminHost),
    engine,
    close: release,
  };
}

function urlOf(app: FastifyInstance, configuredHost: string): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const host = configuredHost.includes(':') ? `[${configuredHost}]` : configuredHost;
  return `http://${host}:${port}`;
}

/** `npm run server`: the HTTP service alone (workers run elsewhere, e.g. `npm run worker`). */
async function main(): Promise<void> {
  const config = loadConfig();
  const runtimeMetricsUrl = config.observability.runtimeMetricsAddress
    ? installRuntime({ metricsBindAddress: config.observability.runtimeMetricsAddress })
    : undefined;
  const engine = await PaymentEngineClient.connect(config);
  const metrics = new EngineMetrics({
    ...(runtimeMetricsUrl ? { runtimeMetricsUrl } : {}),
    countPaymentsByStatus: () => engine.countPaymentsByStatus(),
  });
  const service = await startHttpService(config, { metrics, engine });
  console.log(
    JSON.stringify({ msg: 'http service started', url: service.url, admin: service.adminUrl }),
  );
  const stop = () =>
    void service
      .close()
      .then(() => engine.close())
      .then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
