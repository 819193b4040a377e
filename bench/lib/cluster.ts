import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Agent, request } from 'undici';
import { startDevServer, type DevServer } from '../../scripts/dev-server';
import { PaymentEngineClient } from '../../src/client';
import { DEFAULT_SANDBOX_API_KEY } from '../../src/config';
import { DEFAULT_SANDBOX_PARTNER } from '../../src/sandbox/defaults';
import {
  freePort,
  killAllChildren,
  rssBytes,
  spawnTs,
  track,
  treeRssBytes,
  type Child,
} from './processes';

/**
 * Everything a benchmark measures, started on free loopback ports: a Temporal dev server (its
 * own SQLite file), the Alipay sandbox, the engine (worker and HTTP service, one process each,
 * as `npm run worker` / `npm run server` run them) and the bare baseline worker on the same
 * server. This process (the benchmark) only generates load.
 *
 * Notifications: the engine gives CREATE a notify_url that points at a collector in this
 * process, so the sandbox's signed notification of each trade lands here, is acknowledged, and
 * is then POSTed to the engine's receiver by the benchmark, timed.
 */
export interface ClusterOptions {
  readonly name: string;
  /** Node flags for the engine processes (e.g. `--cpu-prof`). */
  readonly engineNodeFlags?: readonly string[];
  /** Extra environment for the engine worker (e.g. WORKER_MAX_CACHED_WORKFLOWS). */
  readonly workerEnv?: Record<string, string>;
  readonly bareEnv?: Record<string, string>;
}

export interface PreparedTrade {
  readonly outTradeNo: string;
  readonly body: Buffer;
  readonly contentType: string;
}

export const ENGINE_TASK_QUEUE = 'alipay-qr-engine';
export const BARE_TASK_QUEUE = 'bare-baseline';
export const PARTNER = DEFAULT_SANDBOX_PARTNER;

export class Cluster {
  readonly dir: string;
  readonly temporal: DevServer;
  readonly dbFile: string;
  readonly sandboxUrl: string;
  readonly httpUrl: string;
  readonly worker: Child;
  readonly http: Child;
  readonly sandbox: Child;
  readonly bare: Child;
  readonly client: Client;
  readonly engine: PaymentEngineClient;
  readonly #connection: Connection;
  readonly #collector: Server;
  readonly #agent: Agent;
  readonly #received: Map<string, PreparedTrade>;
  readonly #waiting: Map<string, (t: PreparedTrade) => void>;

  private constructor(fields: {
    dir: string;
    temporal: DevServer;
    dbFile: string;
    sandboxUrl: string;
    httpUrl: string;
    worker: Child;
    http: Child;
    sandbox: Child;
    bare: Child;
    connection: Connection;
    collector: Server;
    received: Map<string, PreparedTrade>;
    waiting: Map<string, (t: PreparedTrade) => void>;
  }) {
    this.dir = fields.dir;
    this.temporal = fields.temporal;
    this.dbFile = fields.dbFile;
    this.sandboxUrl = fields.sandboxUrl;
    this.httpUrl = fields.httpUrl;
    this.worker = fields.worker;
    this.http = fields.http;
    this.sandbox = fields.sandbox;
    this.bare = fields.bare;
    this.#connection = fields.connection;
    this.#collector = fields.collector;
    this.#received = fields.received;
    this.#waiting = fields.waiting;
    this.#agent = new Agent({ connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });
    this.client = new Client({ connection: fields.connection });
    this.engine = new PaymentEngineClient({
      client: this.client,
      partnerId: PARTNER,
      taskQueue: ENGINE_TASK_QUEUE,
    });
  }

  static async start(o: ClusterOptions): Promise<Cluster> {
    const dir = mkdtempSync(path.join(os.tmpdir(), `aqe-bench-${o.name}-`));
    const received = new Map<string, PreparedTrade>();
    const waiting = new Map<string, (t: PreparedTrade) => void>();
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const outTradeNo = new URLSearchParams(body.toString('latin1')).get('out_trade_no') ?? '';
        const trade = { outTradeNo, body, contentType: String(req.headers['content-type']) };
        received.set(outTradeNo, trade);
        waiting.get(outTradeNo)?.(trade);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('success');
      });
    });
    const collectorPort = await freePort();
    await new Promise<void>((r) => collector.listen(collectorPort, '127.0.0.1', r));
    const collectorUrl = `http://127.0.0.1:${collectorPort}/collect`;

    try {
      const [tPort, uiPort, sPort, hPort] = [
        await freePort(),
        await freePort(),
        await freePort(),
        await freePort(),
      ];
      const dbFile = path.join(dir, 'temporal.sqlite');
      const temporal = await startDevServer({ port: tPort, uiPort, dbFile, stdio: 'ignore' });
      track(temporal.process);
      const common = {
        TEMPORAL_ADDRESS: temporal.address,
        ENGINE_TASK_QUEUE,
        SANDBOX_PORT: String(sPort),
        ALIPAY_NOTIFY_URL: collectorUrl,
        TEMPORAL_METRICS_ADDRESS: 'off',
        LOG_LEVEL: 'info',
        NODE_ENV: 'production',
      };
      const engineSpawn = { logDir: dir, nodeFlags: o.engineNodeFlags ?? [] };
      const [sandbox, worker, http, bare] = await Promise.all([
        spawnTs({
          name: 'sandbox',
          script: 'src/sandbox/main.ts',
          env: { SANDBOX_PORT: String(sPort), SANDBOX_QUIET: '1' },
          logDir: dir,
          readyText: 'Alipay sandbox listening',
        }),
        spawnTs({
          ...engineSpawn,
          name: 'engine-worker',
          script: 'src/worker.ts',
          env: { ...common, ...o.workerEnv },
          readyText: 'worker started',
        }),
        spawnTs({
          ...engineSpawn,
          name: 'engine-http',
          script: 'bench/engine/http-service.ts',
          env: { ...common, HTTP_PORT: String(hPort) },
          readyText: 'bench http service started',
        }),
        spawnTs({
          name: 'bare-worker',
          script: 'bench/bare/worker.ts',
          env: { TEMPORAL_ADDRESS: temporal.address, BARE_TASK_QUEUE, ...o.bareEnv },
          logDir: dir,
          readyText: 'bare worker started',
        }),
      ]);
      const connection = await Connection.connect({ address: temporal.address });
      return new Cluster({
        dir,
        temporal,
        dbFile,
        sandboxUrl: `http://127.0.0.1:${sPort}`,
        httpUrl: `http://127.0.0.1:${hPort}`,
        worker,
        http,
        sandbox,
        bare,
        connection,
        collector,
        received,
        waiting,
      });
    } catch (err) {
      killAllChildren();
      collector.close();
      throw err;
    }
  }

  /** Calls the merchant API (bearer key); JSON in and out; throws on a non-2xx answer. */
  async api(
    method: 'GET' | 'POST',
    p: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const res = await request(`${this.httpUrl}${p}`, {
      method,
      dispatcher: this.#agent,
      headers: {
        authorization: `Bearer ${DEFAULT_SANDBOX_API_KEY}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${p}: ${res.statusCode} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  }

  /** Creates a store's code through the merchant API; answers its content (the QR payload). */
  async createStore(storeId: string): Promise<string> {
    const code = await this.api('POST', '/v1/codes', {
      secondaryMerchantId: 'M0001',
      secondaryMerchantName: 'Bench Cafe',
      merchantCategoryCode: '5812',
      storeId,
      storeName: `Bench Cafe ${storeId}`,
      pricingCurrency: 'USD',
      settlementCurrency: 'USD',
    });
    const qrcode = code.qrcode;
    if (typeof qrcode !== 'string') throw new Error(`no qrcode in ${JSON.stringify(code)}`);
    return qrcode;
  }

  /** A customer pays `amount` on the code at the sandbox; answers the signed notification. */
  async payTrade(qrcode: string, amount: string): Promise<PreparedTrade> {
    const res = await request(`${this.sandboxUrl}/sandbox/pay`, {
      method: 'POST',
      dispatcher: this.#agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ qrcode, amount }),
    });
    const paid = (await res.body.json()) as { out_trade_no?: string };
    const outTradeNo = paid.out_trade_no;
    if (res.statusCode !== 200 || !outTradeNo)
      throw new Error(`sandbox pay: ${JSON.stringify(paid)}`);
    const got = this.#received.get(outTradeNo);
    const trade =
      got ??
      (await new Promise<PreparedTrade>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no notification for ${outTradeNo}`)),
          30_000,
        );
        this.#waiting.set(outTradeNo, (t) => (clearTimeout(timer), resolve(t)));
      }));
    this.#waiting.delete(outTradeNo);
    this.#received.delete(outTradeNo);
    return trade;
  }

  /** POSTs a notification to the engine's receiver; resolves once it answered `success`. */
  async notify(trade: PreparedTrade): Promise<void> {
    const res = await request(`${this.httpUrl}/alipay/notify`, {
      method: 'POST',
      dispatcher: this.#agent,
      headers: { 'content-type': trade.contentType },
      body: trade.body,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200 || text !== 'success')
      throw new Error(`notify ${trade.outTradeNo}: ${res.statusCode} ${text}`);
  }

  /** The receiver's timing samples (verification, each Temporal call) since the last reset. */
  async timings(reset = true): Promise<Record<string, number[]>> {
    const res = await request(`${this.httpUrl}/bench/timings${reset ? '?reset=1' : ''}`, {
      dispatcher: this.#agent,
    });
    return (await res.body.json()) as Record<string, number[]>;
  }

  paymentWorkflowId(outTradeNo: string): string {
    return `payment/${PARTNER}/${outTradeNo}`;
  }

  /** Memory of every part, in bytes; the Temporal server includes its child processes. */
  memory(): {
    workerRss: number;
    httpRss: number;
    bareRss: number;
    serverRss: number;
    sqliteBytes: number;
  } {
    let sqliteBytes = 0;
    for (const suffix of ['', '-wal', '-shm']) {
      try {
        sqliteBytes += statSync(this.dbFile + suffix).size;
      } catch {
        // no such file (yet)
      }
    }
    return {
      workerRss: rssBytes(this.worker.pid),
      httpRss: rssBytes(this.http.pid),
      bareRss: rssBytes(this.bare.pid),
      serverRss: treeRssBytes(this.temporal.process.pid as number),
      sqliteBytes,
    };
  }

  async close(options: { keepDir?: boolean } = {}): Promise<void> {
    await Promise.allSettled([this.http.stop(), this.worker.stop(), this.bare.stop()]);
    await this.sandbox.stop();
    await this.#connection.close();
    await this.temporal.stop();
    await this.#agent.close();
    await new Promise<void>((r) => this.#collector.close(() => r()));
    if (!options.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
