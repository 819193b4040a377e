import { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { PaymentEngineClient } from '../../src/client';
import { DEFAULT_SANDBOX_API_KEY, loadConfig, type EngineConfig } from '../../src/config';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox';
import { startHttpService, type HttpService } from '../../src/server/main';
import { createWorker } from '../../src/worker';
import { EngineMetrics } from '../../src/observability/metrics';
import { storeInput } from '../sandbox/client';
// Side effect: the Temporal runtime logs warnings only (the test report stays readable).
import '../helpers/temporal';

/**
 * The whole engine in-process, the way `npm start` assembles it, against a given Temporal server:
 * the sandbox as the gateway, the HTTP service on a free port (its notify URL given to CREATE)
 * and the real worker. Only Alipay is simulated.
 */
export interface Stack {
  sandbox: Sandbox;
  http: HttpService;
  engine: PaymentEngineClient;
  config: EngineConfig;
  metrics: EngineMetrics;
  /** Calls the merchant API with the bearer key; JSON in and out. */
  api(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiAnswer>;
  stopWorker(): Promise<void>;
  /** Starts the worker again after {@link stopWorker} (a deploy, a crash recovered). */
  restartWorker(): Promise<void>;
  close(): Promise<void>;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  bytes: Buffer;
}

export const API_KEY = DEFAULT_SANDBOX_API_KEY;

export async function startStack(options: {
  temporalAddress: string;
  nativeConnection: NativeConnection;
  taskQueue: string;
  sandbox?: SandboxOptions;
  /** Extra settings (keys file, refund wait…), as the environment would give them. */
  env?: Record<string, string>;
  /** Log lines of the HTTP service (default: none). */
  logStream?: { write(line: string): void };
}): Promise<Stack> {
  const sandbox = await startSandbox({ ...options.sandbox });
  const env = {
    TEMPORAL_ADDRESS: options.temporalAddress,
    ENGINE_TASK_QUEUE: options.taskQueue,
    SANDBOX_PORT: String(new URL(sandbox.url).port),
    // Reconciliation reads the sandbox's SFTP server (its port is a free one).
    ...(sandbox.sftp ? { RECON_SFTP_PORT: String(sandbox.sftp.port) } : {}),
    HTTP_PORT: '0',
    ADMIN_PORT: '0',
    TEMPORAL_METRICS_ADDRESS: 'off',
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  const base = loadConfig(env);
  const connection = await Connection.connect({ address: options.temporalAddress });
  const engine = new PaymentEngineClient({
    client: new Client({ connection, namespace: base.temporal.namespace }),
    partnerId: base.alipay.gateway.partner,
    taskQueue: options.taskQueue,
    refundWaitMs: base.http.refundWaitMs,
  });
  const metrics = new EngineMetrics({
    countPaymentsByStatus: () => engine.countPaymentsByStatus(),
  });
  const http = await startHttpService(base, {
    engine,
    metrics,
    ...(options.logStream
      ? { logLevel: 'info', logStream: options.logStream }
      : { logLevel: 'silent' }),
  });
  // The code's notify_url is this service's receiver: known once it listens.
  const config = loadConfig({ ...env, ALIPAY_NOTIFY_URL: `${http.url}/alipay/notify` });
  let { worker, run } = await createWorker(config, options.nativeConnection, { metrics });
  let running = run();
  let workerStopped: Promise<void> | undefined;
  const stopWorker = () => {
    workerStopped ??= (async () => {
      // The SDK's own SIGINT/SIGTERM handler may have begun shutting it down already.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    })();
    return workerStopped;
  };
  const restartWorker = async () => {
    await stopWorker();
    ({ worker, run } = await createWorker(config, options.nativeConnection, { metrics }));
    running = run();
    workerStopped = undefined;
  };

  return {
    sandbox,
    http,
    engine,
    config,
    metrics,
    async api(method, path, body, headers = {}) {
      const res = await fetch(`${http.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${API_KEY}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const bytes = Buffer.from(await res.arrayBuffer());
      let json: unknown;
      try {
        json = JSON.parse(bytes.toString('utf8'));
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, json, bytes };
    },
    stopWorker,
    restartWorker,
    async close() {
      await stopWorker();
      await http.close();
      await sandbox.close();
      await connection.close();
    },
  };
}

/** The data of a store's code as a merchant sends it to `POST /v1/codes`. */
export function codeBody(storeId: string, extra: Record<string, unknown> = {}) {
  return { ...storeInput(storeId), ...extra };
}

/** Polls `probe` until it returns a value (not undefined); fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
