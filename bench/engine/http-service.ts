/**
 * The engine's HTTP service as `npm run server` builds it (same config, same routes), plus what
 * a benchmark needs to split a notification's acknowledgement: the gateway's `readNotification`
 * (verification) and every Temporal call the receiver makes (signal-with-start, Updates) are
 * timed, and `GET /bench/timings` answers the samples since the last `?reset=1`. Benchmarks only.
 */
import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import { AlipayGateway } from '../../src/alipay';
import { PaymentEngineClient } from '../../src/client';
import { loadConfig } from '../../src/config';
import { buildHttpService } from '../../src/server/app';
import { QrRenderer } from '../../src/server/qr-image';

type Samples = Record<string, number[]>;
let samples: Samples = {};
const record = (kind: string, ms: number) => (samples[kind] ??= []).push(ms);

async function timed<T>(kind: string, call: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await call();
  } finally {
    record(kind, performance.now() - t);
  }
}

const timing: WorkflowClientInterceptor = {
  signalWithStart: (input, next) => timed(`temporal.signalWithStart`, () => next(input)),
  startUpdate: (input, next) => timed(`temporal.update.${input.updateName}`, () => next(input)),
  startUpdateWithStart: (input, next) => timed(`temporal.updateWithStart`, () => next(input)),
  signal: (input, next) => timed(`temporal.signal.${input.signalName}`, () => next(input)),
};

async function main(): Promise<void> {
  const config = loadConfig();
  const connection = await Connection.connect(config.temporal.connection);
  const engine = new PaymentEngineClient({
    client: new Client({
      connection,
      namespace: config.temporal.namespace,
      interceptors: { workflow: [timing] },
    }),
    partnerId: config.alipay.gateway.partner,
    taskQueue: config.temporal.taskQueue,
  });
  const real = new AlipayGateway(config.alipay.gateway);
  const gateway: Pick<AlipayGateway, 'readNotification' | 'config'> = {
    config: real.config,
    readNotification(body, contentType) {
      const t = performance.now();
      try {
        return real.readNotification(body, contentType);
      } finally {
        record('verification', performance.now() - t);
      }
    },
  };
  const qr = new QrRenderer({ threads: config.http.qrRenderThreads });
  const app = buildHttpService({
    engine,
    gateway,
    taskQueue: config.temporal.taskQueue,
    payments: config.payments,
    apiKeys: config.http.apiKeys,
    notifyMaxBytes: config.http.notifyMaxBytes,
    apiMaxBytes: config.http.apiMaxBytes,
    // Benchmarks measure the engine's throughput: the per-key rate limit is lifted.
    rateLimitPerMinute: 1_000_000_000,
    qr,
    qrMaxSize: config.http.qrMaxSize,
    logLevel: config.observability.logLevel,
  });
  app.get('/bench/timings', async (req) => {
    const out = samples;
    if ((req.query as Record<string, string>).reset === '1') samples = {};
    return out;
  });
  await app.listen({ host: config.http.host, port: config.http.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  console.log(
    JSON.stringify({ msg: 'bench http service started', url: `http://127.0.0.1:${port}` }),
  );
  const stop = () =>
    void app
      .close()
      .then(() => qr.close())
      .then(() => real.close())
      .then(() => connection.close())
      .then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
