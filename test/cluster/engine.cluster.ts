/**
 * The engine in its production layout (sandbox, 2 workers, 2 HTTP services, each its own
 * process) on the real multi-service Temporal cluster of scripts/cluster.sh (PostgreSQL, four
 * service processes), under load and under failures. Run by `npm run test:cluster`, not by
 * `npm test` (the cluster takes a cold build of about 11 minutes the first time on a machine).
 *
 * Only public surfaces: the merchant HTTP API (through the layout's balancer), the sandbox's
 * HTTP endpoints (customers, faults, state) and the Temporal CLI (visibility queries).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  DEFAULT_LAYOUT_DIR,
  knownProcesses,
  layoutDown,
  layoutUp,
  pidOf,
  planLayout,
  REPO,
  startProcess,
  stopProcess,
  type Layout,
  type ProcessSpec,
} from '../../scripts/lib/engine-layout';
import type { PaymentState } from '../../src/client';
import { CLI_TYPE_NAMES, ENGINE_SEARCH_ATTRIBUTES } from '../../src/search-attributes';
import {
  call,
  CLUSTER_ADDRESS,
  clusterPid,
  clusterRss,
  clusterSh,
  eventually,
  gmt8Midnight,
  pool,
  sleep,
  temporalJson,
  type ClusterService,
} from './support';

const RUN = Date.now().toString(36);
const STORES = [1, 2, 3, 4].map((k) => `S-CL-${RUN}-${k}`);
const PAYMENTS = 200;
/** The cluster's Web UI server (scripts/cluster.sh: port base + 27). */
const UI_PORT = Number(process.env.CLUSTER_PORT_BASE ?? 7833) + 27;
const REFUNDS = 40;
/** How long one payment may take to be PAID, outages included (the sandbox retries). */
const PAID_TIMEOUT_MS = 240_000;

interface Payment {
  outTradeNo: string;
  store: string;
  amountMinor: number;
}

const stats = {
  payments: 0,
  refunds: 0,
  sigkills: [] as string[],
  restarts: [] as string[],
  lost: Number.NaN,
  ledgerMismatches: Number.NaN,
  paymentsPerSecond: Number.NaN,
  timings: [] as string[],
  /** Notification deliveries Alipay (the sandbox) had to repeat: outages felt by the receiver. */
  repeatedDeliveries: 0,
};
const payments: Payment[] = [];
const qrcodes = new Map<string, string>();
let layout: Layout;
let balancerUrl: string;
let sandboxUrl: string;
let rssAtRest: Record<string, number | undefined> = {};

const api = <T>(method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  call<T>(method, `${balancerUrl}${path}`, body, headers);

/** Notifications each HTTP service acknowledged, as the layout's balancer counted them. */
async function acknowledgedPerService(): Promise<number[]> {
  const { json } = await call<{ acknowledged: Record<string, number> }>(
    'GET',
    `${balancerUrl}/balancer/stats`,
  );
  return layout.httpUrls.map((u) => json.acknowledged[u] ?? 0);
}

const spec = (name: string): ProcessSpec => {
  const found = layout.processes.find((p) => p.name === name);
  assert.ok(found, `no process ${name} in the layout`);
  return found;
};

/** A customer scans a store's code and pays; answers Alipay's out_trade_no. */
async function customerPays(store: string, amountMinor: number): Promise<Payment> {
  const amount = `${Math.floor(amountMinor / 100)}.${String(amountMinor % 100).padStart(2, '0')}`;
  const res = await call<{ out_trade_no: string }>('POST', `${sandboxUrl}/sandbox/pay`, {
    qrcode: qrcodes.get(store),
    amount,
  });
  assert.ok(res.status < 300, `sandbox /pay: ${res.status} ${JSON.stringify(res.json)}`);
  const payment = { outTradeNo: res.json.out_trade_no, store, amountMinor };
  payments.push(payment);
  stats.payments += 1;
  return payment;
}

async function paymentState(outTradeNo: string): Promise<PaymentState | undefined> {
  const res = await api<PaymentState>('GET', `/v1/payments/${outTradeNo}`);
  return res.status === 200 ? res.json : undefined; // 404 before the notification, 503 in outages
}

async function waitFor(
  outTradeNo: string,
  done: (s: PaymentState) => boolean,
  timeoutMs = PAID_TIMEOUT_MS,
): Promise<PaymentState> {
  return eventually(`payment ${outTradeNo}`, timeoutMs, async () => {
    const s = await paymentState(outTradeNo);
    return s && done(s) ? s : undefined;
  });
}

/** `count` customers paying in turn, `concurrency` at a time, each waiting until PAID. */
async function customers(count: number, concurrency: number, amountBase = 200): Promise<Payment[]> {
  return pool(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    async (i) => {
      const store = STORES[i % STORES.length] as string;
      const p = await customerPays(store, amountBase + ((i * 37) % 4900));
      await waitFor(p.outTradeNo, (s) => s.status === 'PAID');
      return p;
    },
  );
}

interface SandboxNotification {
  notify_id: string;
  out_trade_no: string;
  state: string;
  deliveries: number;
}

/** Every notification of these payments answered `success` (Alipay stops retrying). */
async function allAcknowledged(list: readonly Payment[], timeoutMs: number): Promise<number> {
  const wanted = new Set(list.map((p) => p.outTradeNo));
  return eventually(
    'every notification acknowledged',
    timeoutMs,
    async () => {
      const res = await call<SandboxNotification[]>('GET', `${sandboxUrl}/sandbox/notifications`);
      const ours = res.json.filter((n) => wanted.has(n.out_trade_no));
      if (ours.length < wanted.size) return undefined;
      if (ours.some((n) => n.state !== 'delivered')) return undefined;
      return ours.reduce((sum, n) => sum + n.deliveries, 0) - ours.length; // repeated deliveries
    },
    1000,
  );
}

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    stats.timings.push(`${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

describe('the engine on a multi-service Temporal cluster', { timeout: 1_500_000 }, () => {
  before(async () => {
    await timed('cluster up (or reuse)', () => clusterSh('up'));
    rssAtRest = await clusterRss();
    const running = knownProcesses(DEFAULT_LAYOUT_DIR).filter((p) => pidOf(DEFAULT_LAYOUT_DIR, p));
    assert.equal(
      running.length,
      0,
      `an engine layout is running (${running.map((p) => p.name).join(', ')}): npm run engine-layout -- down`,
    );
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    delete env.NODE_OPTIONS;
    Object.assign(env, {
      TEMPORAL_ADDRESS: CLUSTER_ADDRESS,
      TEMPORAL_NAMESPACE: 'default',
      // Alipay's retry schedule 100x faster: 1.2 s, 6 s, 6 s, 36 s, ...
      SANDBOX_TIME_SCALE: '0.01',
      SANDBOX_QUIET: '1',
      LOG_LEVEL: 'warn',
      // A load test of the engine, not of the per-key rate limit (600/min by default).
      API_RATE_LIMIT_PER_MINUTE: '1000000',
    });
    // The layout's own balancer is the notify_url given to CREATE and the merchant API's address.
    delete env.ALIPAY_NOTIFY_URL;
    delete env.ALIPAY_GATEWAY_URL;
    layout = planLayout({ workers: 2, http: 2, env });
    sandboxUrl = layout.sandboxUrl as string;
    balancerUrl = layout.balancerUrl as string;
    await timed('engine layout up (sandbox, 2 HTTP, 2 workers, balancer)', () => layoutUp(layout));
  });

  after(async () => {
    if (layout) await layoutDown(layout.dir);
    const rssAfter = await clusterRss();
    const mib = (n: number | undefined) => (n === undefined ? 'down' : `${n} MiB`);
    const rows: Array<[string, string]> = [
      ['payments', String(stats.payments)],
      ['refunds', String(stats.refunds)],
      ['SIGKILLs', `${stats.sigkills.length} (${stats.sigkills.join(', ')})`],
      ['rolling restarts', `${stats.restarts.length} (${stats.restarts.join(', ')})`],
      ['lost', String(stats.lost)],
      ['ledger mismatches', String(stats.ledgerMismatches)],
      ['notification deliveries repeated', String(stats.repeatedDeliveries)],
      ['payments/s (200, 20 customers)', stats.paymentsPerSecond.toFixed(2)],
      ...Object.keys(rssAfter).map((k): [string, string] => [
        `RSS ${k} rest -> after`,
        `${mib(rssAtRest[k])} -> ${mib(rssAfter[k])}`,
      ]),
      ...stats.timings.map((t): [string, string] => ['time', t]),
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log(`\n${rows.map(([k, v]) => `| ${k.padEnd(width)} | ${v}`).join('\n')}\n`);
  });

  it("has the engine's search attributes registered by cluster.sh, with their types", async () => {
    const { customAttributes } = await temporalJson<{ customAttributes: Record<string, string> }>(
      'operator',
      'search-attribute',
      'list',
    );
    for (const key of ENGINE_SEARCH_ATTRIBUTES) {
      // INDEXED_VALUE_TYPE_KEYWORD <-> Keyword
      const type = customAttributes[key.name]?.replace('INDEXED_VALUE_TYPE_', '').replace(/_/g, '');
      assert.equal(type, CLI_TYPE_NAMES[key.type].toUpperCase(), key.name);
    }
  });

  it('runs the demo, and operators find its payments by search attributes', async () => {
    const { stdout } = await timed('demo', () =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
        cwd: REPO,
        env: {
          ...process.env,
          ENGINE_URL: balancerUrl,
          // Readiness is on an HTTP service's own admin listener (never behind the balancer).
          ENGINE_ADMIN_URL: spec('http-1').adminUrl,
          SANDBOX_URL: sandboxUrl,
        },
        timeout: 240_000,
      }),
    );
    const refunded = /== 3\. Two partial refunds of (\S+)/.exec(stdout)?.[1];
    const cancelled = /^(\S+): CANCELLED by /m.exec(stdout)?.[1];
    assert.ok(refunded && cancelled, `unexpected demo output:\n${stdout}`);
    const today = gmt8Midnight();
    const count = async (query: string) =>
      (await temporalJson<{ count?: string | number }>('workflow', 'count', '--query', query))
        .count;
    // Visibility (SQL on PostgreSQL) is eventually consistent: poll.
    await eventually('visibility', 30_000, async () => {
      const partly = await count(
        `AlipayStoreId = "S-DEMO" AND AlipayOutTradeNo = "${refunded}" AND PaymentStatus = "PARTIALLY_REFUNDED" AND LastRefundAt >= "${today}" AND RefundedMinor = 1250`,
      );
      const reversed = await count(
        `AlipayOutTradeNo = "${cancelled}" AND PaymentStatus = "CANCELLED"`,
      );
      return Number(partly) === 1 && Number(reversed) === 1 ? true : undefined;
    });
    // The cluster's Web UI server (unless CLUSTER_UI=0) finds it the same way.
    if (process.env.CLUSTER_UI !== '0') {
      const query = encodeURIComponent(`AlipayOutTradeNo = "${refunded}"`);
      const ui = await call<{ executions?: Array<{ execution: { workflowId: string } }> }>(
        'GET',
        `http://127.0.0.1:${UI_PORT}/api/v1/namespaces/default/workflows?query=${query}`,
      );
      assert.equal(ui.status, 200);
      assert.equal(ui.json.executions?.length, 1, JSON.stringify(ui.json));
      assert.match(ui.json.executions[0]?.execution.workflowId ?? '', new RegExp(`${refunded}$`));
    }
    // The merchant API lists the same from visibility, through either HTTP service.
    for (const url of layout.httpUrls) {
      const page = await call<{ payments: Array<{ outTradeNo: string }> }>(
        'GET',
        `${url}/v1/stores/S-DEMO/payments?status=PARTIALLY_REFUNDED&pageSize=100`,
      );
      assert.equal(page.status, 200);
      assert.ok(
        page.json.payments.some((p) => p.outTradeNo === refunded),
        url,
      );
    }
  });

  it(`takes ${PAYMENTS} payments over both HTTP services and loses none`, async () => {
    for (const store of STORES) {
      const res = await api<{ qrcode: string }>('POST', '/v1/codes', {
        secondaryMerchantId: 'M-CLUSTER',
        secondaryMerchantName: 'Cluster Test Kitchen',
        merchantCategoryCode: '5812',
        storeId: store,
        storeName: `Cluster Test ${store}`,
        pricingCurrency: 'USD',
        settlementCurrency: 'USD',
      });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      qrcodes.set(store, res.json.qrcode);
    }
    const before = await acknowledgedPerService();
    const started = Date.now();
    const batch = await timed(`${PAYMENTS} payments, 20 customers`, () => customers(PAYMENTS, 20));
    stats.paymentsPerSecond = PAYMENTS / ((Date.now() - started) / 1000);
    stats.repeatedDeliveries += await allAcknowledged(batch, 60_000);
    const spread = (await acknowledgedPerService()).map((n, i) => n - (before[i] ?? 0));
    console.log(`notifications acknowledged per HTTP service: ${spread.join(' / ')}`);
    for (const n of spread) assert.ok(n >= PAYMENTS / 4, `uneven spread ${spread.join('/')}`);
    // Visibility on PostgreSQL knows each store's payments.
    for (const store of STORES) {
      const expected = batch.filter((p) => p.store === store).length;
      await eventually(`visibility count of ${store}`, 30_000, async () => {
        const { count } = await temporalJson<{ count?: string | number }>(
          'workflow',
          'count',
          '--query',
          `AlipayStoreId = "${store}" AND PaymentStatus = "PAID"`,
        );
        return Number(count) === expected ? true : undefined;
      });
    }
  });

  it('finishes every payment and refund on the other worker when one is SIGKILLed mid-stream', async () => {
    const [fault] = (
      await call<Array<{ id: number }>>('POST', `${sandboxUrl}/sandbox/faults`, {
        service: 'REFUND',
        kind: 'slow',
        ms: 3000,
        times: 'always',
      })
    ).json;
    assert.ok(fault);
    const targets = payments.slice(0, REFUNDS);
    const refunds = pool(targets, REFUNDS, async (p, i) => {
      const key = `R-${RUN}-${i}`;
      // No answer in time (503), still running at Alipay (202 PENDING) or rate limited (429):
      // repeated with the same Idempotency-Key, as a merchant would.
      return eventually(`refund ${key}`, 180_000, async () => {
        const res = await api<{ status: string }>(
          'POST',
          `/v1/payments/${p.outTradeNo}/refunds`,
          { amount: '1.00', reason: 'cluster test' },
          { 'idempotency-key': key },
        );
        if ([429, 503].includes(res.status)) return undefined;
        if (res.status === 202 && res.json.status === 'PENDING') return undefined;
        assert.equal(res.status, 201, `refund ${key}: ${res.status} ${JSON.stringify(res.json)}`);
        stats.refunds += 1;
        return res.json;
      });
    });
    const stream = customers(30, 10, 2000);
    // Kill while REFUND calls are held at the sandbox (the slow fault has seen some).
    await eventually(
      'refunds in flight',
      60_000,
      async () => {
        const rules = (
          await call<Array<{ id: number; seen: number }>>('GET', `${sandboxUrl}/sandbox/faults`)
        ).json;
        return (rules.find((r) => r.id === fault.id)?.seen ?? 0) >= 10 ? true : undefined;
      },
      100,
    );
    const victim = pidOf(layout.dir, spec('worker-1'));
    assert.ok(victim, 'worker-1 is not running');
    process.kill(victim, 'SIGKILL');
    stats.sigkills.push('worker-1');
    await timed('refunds + 30 payments after SIGKILL of worker-1', () =>
      Promise.all([refunds, stream]),
    );
    const rules = (
      await call<Array<{ id: number; seen: number }>>('GET', `${sandboxUrl}/sandbox/faults`)
    ).json;
    const refundCalls = rules.find((r) => r.id === fault.id)?.seen ?? 0;
    await call('DELETE', `${sandboxUrl}/sandbox/faults/${fault.id}`);
    console.log(`REFUND calls at the sandbox: ${refundCalls} for ${REFUNDS} refunds`);
    // The killed worker's calls were made again by the other one (same partner_refund_id)...
    assert.ok(refundCalls > REFUNDS, 'no REFUND was in flight on the killed worker');
    // ...and Alipay executed each refund once.
    const trades = (
      await call<Array<{ out_trade_no: string; refunded_minor: number; refund_ids: string[] }>>(
        'GET',
        `${sandboxUrl}/sandbox/trades`,
      )
    ).json;
    for (const p of targets) {
      const trade = trades.find((t) => t.out_trade_no === p.outTradeNo);
      assert.equal(trade?.refunded_minor, 100, p.outTradeNo);
      assert.equal(trade?.refund_ids.length, 1, p.outTradeNo);
      const s = await waitFor(p.outTradeNo, (x) => x.status === 'PARTIALLY_REFUNDED', 30_000);
      assert.equal(s.refundedMinor, 100);
      assert.deepEqual(
        s.refunds.map((r) => r.status),
        ['SUCCEEDED'],
      );
    }
    // Back to two workers for what follows.
    await startProcess(layout.dir, spec('worker-1'));
  });

  for (const service of ['history', 'matching'] as const satisfies readonly ClusterService[]) {
    it(`loses nothing when the ${service} service is SIGKILLed and restarted under load`, async () => {
      const started = Date.now();
      const stream = customers(80, 10, service === 'history' ? 3000 : 4000);
      await sleep(2000);
      const pid = clusterPid(service);
      assert.ok(pid, `${service} is not running`);
      process.kill(pid, 'SIGKILL');
      stats.sigkills.push(service);
      const killed = Date.now();
      await sleep(3000);
      await clusterSh('up');
      assert.notEqual(clusterPid(service), undefined);
      stats.timings.push(
        `${service} SIGKILLed, back in the cluster ${((Date.now() - killed) / 1000).toFixed(1)} s later`,
      );
      const batch = await stream;
      stats.timings.push(
        `80 payments around the ${service} kill: ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      const repeats = await allAcknowledged(batch, 300_000);
      stats.repeatedDeliveries += repeats;
      console.log(`${service}: ${repeats} notification deliveries repeated by the sandbox`);
    });
  }

  it('restarts both HTTP services one after the other while notifications arrive', async () => {
    const before = await acknowledgedPerService();
    const stream = customers(40, 8, 5000);
    for (const name of ['http-1', 'http-2']) {
      await sleep(1500);
      await timed(`rolling restart of ${name}`, async () => {
        await stopProcess(layout.dir, spec(name), 'SIGTERM');
        await startProcess(layout.dir, spec(name));
      });
      stats.restarts.push(name);
    }
    const batch = await stream;
    stats.repeatedDeliveries += await allAcknowledged(batch, 300_000);
    const spread = (await acknowledgedPerService()).map((n, i) => n - (before[i] ?? 0));
    console.log(`rolling restart: acknowledged per HTTP service ${spread.join(' / ')}`);
    for (const n of spread) assert.ok(n > 0);
  });

  it("ends with the engine's ledger equal to Alipay's (the sandbox): nothing lost", async () => {
    const state = (
      await call<{
        trades: Array<{
          out_trade_no: string;
          store_id: string;
          trade_status: string;
          amount_minor: number;
          refunded_minor: number;
          refund_ids: string[];
        }>;
        notifications: SandboxNotification[];
      }>('GET', `${sandboxUrl}/sandbox/state`)
    ).json;
    const trades = state.trades.filter((t) => STORES.includes(t.store_id));
    assert.equal(trades.length, payments.length, 'trades at the sandbox vs payments made');
    let lost = 0;
    let mismatches = 0;
    await pool(trades, 10, async (t) => {
      const s = await paymentState(t.out_trade_no);
      if (!s || !['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'].includes(s.status)) {
        lost += 1;
        console.log(`lost: ${t.out_trade_no} engine ${s?.status ?? 'none'}`);
        return;
      }
      const succeeded = s.refunds.filter((r) => r.status === 'SUCCEEDED').length;
      if (
        t.trade_status !== 'TRADE_SUCCESS' ||
        s.paidMinor !== t.amount_minor ||
        s.refundedMinor !== t.refunded_minor ||
        succeeded !== t.refund_ids.length
      ) {
        mismatches += 1;
        console.log(
          `mismatch: ${t.out_trade_no} sandbox ${JSON.stringify(t)} engine ${s.status} ${s.paidMinor}/${s.refundedMinor}`,
        );
      }
    });
    const unanswered = state.notifications.filter(
      (n) => trades.some((t) => t.out_trade_no === n.out_trade_no) && n.state !== 'delivered',
    );
    stats.lost = lost + unanswered.length;
    stats.ledgerMismatches = mismatches;
    assert.equal(lost, 0);
    assert.equal(unanswered.length, 0);
    assert.equal(mismatches, 0);
  });
});
