import type { FastifyInstance } from 'fastify';
import { AlipayGateway } from '../alipay';
import { PaymentEngineClient } from '../client';
import { loadConfig, type EngineConfig } from '../config';
import { EngineMetrics } from '../observability/metrics';
import { installRuntime } from '../observability/runtime';
import { buildHttpService } from './app';

export interface HttpService {
  app: FastifyInstance;
  /** `http://host:port` the service listens on. */
  url: string;
  engine: PaymentEngineClient;
  close(): Promise<void>;
}

export interface HttpServiceOptions {
  /** Shared with an in-process worker (its gateway calls and refunds land in the same registry). */
  metrics?: EngineMetrics;
  /** An already connected client (tests); otherwise one is connected from the config. */
  engine?: PaymentEngineClient;
  logLevel?: EngineConfig['observability']['logLevel'] | 'silent';
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
  const app = buildHttpService({
    engine,
    gateway,
    taskQueue: config.temporal.taskQueue,
    payments: config.payments,
    merchantApiKeys: config.http.merchantApiKeys,
    notifyMaxBytes: config.http.notifyMaxBytes,
    apiMaxBytes: config.http.apiMaxBytes,
    logLevel: options.logLevel ?? config.observability.logLevel,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  try {
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await gateway.close();
    if (!options.engine) await engine.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  return {
    app,
    url: `http://${host}:${port}`,
    engine,
    async close() {
      await app.close();
      await gateway.close();
      if (!options.engine) await engine.close();
    },
  };
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
  console.log(JSON.stringify({ msg: 'http service started', url: service.url }));
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
