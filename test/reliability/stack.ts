import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startDevServer, type DevServer } from '../../scripts/dev-server';
import { PaymentEngineClient } from '../../src/client';
import { loadConfig } from '../../src/config';
import { DEFAULT_SANDBOX_MD5_KEY, startSandbox, type Sandbox } from '../../src/sandbox';
import type { PaymentState } from '../../src/workflows/payment-types';
import type { ApiAnswer } from '../server/support';

/**
 * The engine as separate processes, the way production runs it, so that the suite can kill
 * them: the Temporal dev server on a SQLite file (scripts/dev-server.ts), the worker
 * (`npm run worker`) and the HTTP service (`npm run server`), each a child process on loopback.
 * Alipay is the sandbox, in this process, with its notification schedule compressed (time
 * scale) so that retries after drops and outages come within seconds.
 */

const ROOT = path.resolve(__dirname, '../..');
/** Alipay's retry schedule (2m, 10m, 10m, 1h, …) at this scale: 0.3 s, 1.5 s, 1.5 s, 9 s, … */
export const TIME_SCALE = 0.0025;
/** The worker gives up on a gateway answer after this (the sandbox's `hang` faults). */
export const GATEWAY_READ_TIMEOUT_MS = 2000;

/** One child process of the engine, restartable on the same environment. */
export interface EngineProcess {
  readonly name: string;
  /** Every line it printed (stdout and stderr), across restarts. */
  readonly lines: string[];
  readonly pid: number | undefined;
  /** Running (started and not exited). */
  alive(): boolean;
  start(): Promise<void>;
  /** SIGKILL: no shutdown hook runs (a crash, an OOM kill, a lost machine). */
  kill(): Promise<void>;
  /** SIGTERM and wait (graceful). */
  stop(): Promise<void>;
}

export interface ReliabilityStack {
  sandbox: Sandbox;
  temporal: DevServer;
  worker: EngineProcess;
  http: EngineProcess;
  /** The HTTP service's base URL (fixed port: it survives restarts, as the codes' notify_url must). */
  httpUrl: string;
  /** A merchant client of this process, for reads that the API does not offer. */
  engine: PaymentEngineClient;
  partnerId: string;
  /** The merchant API bearer key (random per run: a secret the logs must never show). */
  apiKey: string;
  /** Secrets nothing may print or answer: the gateway key and the merchant API key. */
  secrets: string[];
  api(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiAnswer>;
  /** The payment's state through the API (retried while the API is restarting). */
  payment(outTradeNo: string): Promise<PaymentState | undefined>;
  /** SIGKILL the dev server and start it again on the same SQLite file and ports. */
  crashTemporal(): Promise<void>;
  /** Every line printed by the worker and the HTTP service. */
  logLines(): string[];
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A child process running one of the engine's entry points with `tsx`, ready when `ready` matches. */
function engineProcess(
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): EngineProcess {
  const lines: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const self: EngineProcess = {
    name,
    lines,
    get pid() {
      return child?.pid;
    },
    alive: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    async start() {
      const c = spawn(process.execPath, ['--import', 'tsx', entry], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = c;
      exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      let seen = false;
      let partial = '';
      const take = (chunk: Buffer) => {
        partial += chunk.toString('utf8');
        const parts = partial.split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) {
          lines.push(line);
          if (ready.test(line)) seen = true;
        }
      };
      c.stdout?.on('data', take);
      c.stderr?.on('data', take);
      const deadline = Date.now() + 90_000;
      let gone = false;
      void exited.then(() => (gone = true));
      while (!seen) {
        if (gone)
          throw new Error(`${name} exited during start-up:\n${lines.slice(-20).join('\n')}`);
        if (Date.now() > deadline) {
          c.kill('SIGKILL');
          throw new Error(`${name} not ready in 90 s:\n${lines.slice(-20).join('\n')}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async kill() {
      child?.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return self;
}

export async function startReliabilityStack(): Promise<ReliabilityStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'engine-reliability-'));
  const dbFile = path.join(dir, 'temporal.sqlite');
  const ports = { port: await freePort(), uiPort: await freePort() };
  let temporal = await startDevServer({ ...ports, dbFile });
  const sandbox = await startSandbox({ timeScale: TIME_SCALE });
  const httpPort = await freePort();
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const apiKey = `rel-${randomBytes(18).toString('hex')}`;
  const taskQueue = 'engine-reliability';
  // Only what the engine needs: nothing from the developer's shell leaks in (TEMPORAL_*, …).
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: temporal.address,
    ENGINE_TASK_QUEUE: taskQueue,
    SANDBOX_PORT: String(sandbox.port),
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(httpPort),
    ALIPAY_NOTIFY_URL: `${httpUrl}/alipay/notify`,
    ALIPAY_READ_TIMEOUT_MS: String(GATEWAY_READ_TIMEOUT_MS),
    ALIPAY_CONNECT_TIMEOUT_MS: '1000',
    MERCHANT_API_KEYS: apiKey,
    // The suite polls every payment's state as fast as it can: one key, far over a till's rate.
    API_RATE_LIMIT_PER_MINUTE: '1000000',
    ADMIN_PORT: '0',
    TEMPORAL_METRICS_ADDRESS: 'off',
    LOG_LEVEL: 'info',
  };
  const config = loadConfig(env);
  const worker = engineProcess('worker', 'src/worker.ts', env, /"worker started"/);
  const http = engineProcess('http', 'src/server/main.ts', env, /"http service started"/);
  await Promise.all([worker.start(), http.start()]);
  const engine = await PaymentEngineClient.connect(config);

  const api: ReliabilityStack['api'] = async (method, p, body, headers = {}) => {
    const res = await fetch(`${httpUrl}${p}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(90_000),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, bytes };
  };

  return {
    sandbox,
    get temporal() {
      return temporal;
    },
    worker,
    http,
    httpUrl,
    engine,
    partnerId: config.alipay.gateway.partner,
    apiKey,
    secrets: [DEFAULT_SANDBOX_MD5_KEY, apiKey],
    api,
    async payment(outTradeNo) {
      for (let i = 0; i < 20; i++) {
        try {
          const res = await api('GET', `/v1/payments/${encodeURIComponent(outTradeNo)}`);
          if (res.status === 200) return res.json as PaymentState;
          if (res.status === 404) return undefined;
        } catch {
          // the service is restarting: ask again
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`no answer about payment ${outTradeNo}`);
    },
    async crashTemporal() {
      temporal.process.kill('SIGKILL');
      await new Promise<void>((resolve) => {
        if (temporal.process.exitCode !== null || temporal.process.signalCode !== null) resolve();
        else temporal.process.once('exit', () => resolve());
      });
      temporal = await startDevServer({ ...ports, dbFile });
    },
    logLines: () => [...worker.lines, ...http.lines],
    async close() {
      await http.stop();
      await worker.stop();
      await engine.close().catch(() => undefined);
      await sandbox.close();
      await temporal.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
