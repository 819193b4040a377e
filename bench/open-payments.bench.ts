/**
 * Benchmark 4, open payments: what each open PaymentWorkflow (PAID, in its refund window) costs
 * in worker memory, Temporal server memory and SQLite bytes, against the same number of open bare
 * workflows, at growing counts. The worker's memory must stay flat once its workflow cache is full
 * (evicted workflows live in Temporal's database only and are replayed when a message arrives).
 *
 * The sizes (1k, 5k, 10k) take longer than this machine's 15-minute budget for the whole
 * suite, so the default run scales them down and scales the workflow cache down with them, which
 * shows the same thing (flat past the cache cap): `--levels 1000,5000,10000 --cache default` runs
 * the full sizes with the SDK's default cache.
 *
 * Run: npm run bench -- open-payments [--levels 50,100,200] [--cache 25] [--concurrency 16]
 */
import { Cluster } from './lib/cluster';
import { closedLoop, sleep } from './lib/load';
import { parseFlags, printTable, runContext, writeResult } from './lib/report';
import { bareSettled, paymentSettled, settle } from './lib/settle';
import { logFirst, Sides } from './lib/sides';
import { round3 } from './lib/stats';
import { TradePool } from './lib/trades';

const USAGE = `Usage: npm run bench -- open-payments [--levels 50,100,200] [--cache 25|default] [--concurrency 16] [--name NAME]
  --levels       open payments (and open bare workflows) at each measurement (default 50,100,200)
  --cache        WORKER_MAX_CACHED_WORKFLOWS of both workers (default 25; "default" = the SDK's)
  --concurrency  notifications in flight while opening payments (default 16)
  --name         result file name (default open-payments)`;

const MiB = 2 ** 20;

async function main(): Promise<void> {
  const flags = parseFlags(USAGE, {
    levels: '50,100,200',
    cache: '25',
    concurrency: '16',
    name: 'open-payments',
  });
  const levels = (flags.levels as string).split(',').map(Number);
  const cache = flags.cache === 'default' ? undefined : Number(flags.cache);
  const concurrency = Number(flags.concurrency);
  const ctx = runContext();
  const cluster = await Cluster.start({
    name: 'open',
    ...(cache !== undefined
      ? {
          workerEnv: { WORKER_MAX_CACHED_WORKFLOWS: String(cache) },
          bareEnv: { BARE_MAX_CACHED_WORKFLOWS: String(cache) },
        }
      : {}),
  });
  try {
    const pool = new TradePool(cluster, [await cluster.createStore('BENCH-0')]);
    const sides = await Sides.create(cluster, pool);
    await sleep(2000);
    const base = await quietMemory(cluster);
    const rows = [];
    let open = 0;
    let engineTotal = 0;
    let bareTotal = 0;
    let prevServer = base.serverRss;
    let prevSqlite = base.sqliteBytes;
    for (const level of levels) {
      const add = level - open;
      const t0 = performance.now();
      await pool.fill(add);
      const ids: string[] = [];
      const e = await closedLoop(
        { concurrency, count: add },
        async () => (await sides.engineNotify(ids)) !== undefined,
        logFirst('engine'),
      );
      await settle(sides.client, ids, paymentSettled, { timeoutMs: 300_000 });
      await waitAllPaid(cluster, ids);
      engineTotal += e.completed;
      const afterEngine = await quietMemory(cluster);
      const openingSeconds = (performance.now() - t0) / 1000;
      const bareIds: string[] = [];
      const b = await closedLoop(
        { concurrency, count: add },
        async () => void (await sides.bareSignalWithStart(bareIds, 'bare-open')),
        logFirst('bare'),
      );
      await settle(sides.client, bareIds, bareSettled, { timeoutMs: 300_000 });
      bareTotal += b.completed;
      const afterBare = await quietMemory(cluster);
      open = level;
      const row = {
        openPayments: engineTotal,
        openBare: bareTotal,
        workerRssMiB: round3(afterBare.workerRss / MiB),
        bareWorkerRssMiB: round3(afterBare.bareRss / MiB),
        serverRssMiB: round3(afterBare.serverRss / MiB),
        sqliteMiB: round3(afterBare.sqliteBytes / MiB),
        perOpenPayment: {
          workerKiB: round3((afterBare.workerRss - base.workerRss) / engineTotal / 1024),
          bareWorkerKiB: round3((afterBare.bareRss - base.bareRss) / bareTotal / 1024),
          serverKiB: round3((afterEngine.serverRss - prevServer) / e.completed / 1024),
          serverBareKiB: round3((afterBare.serverRss - afterEngine.serverRss) / b.completed / 1024),
          sqliteKiB: round3((afterEngine.sqliteBytes - prevSqlite) / e.completed / 1024),
          sqliteBareKiB: round3(
            (afterBare.sqliteBytes - afterEngine.sqliteBytes) / b.completed / 1024,
          ),
        },
        openingSeconds: round3(openingSeconds),
      };
      rows.push(row);
      prevServer = afterBare.serverRss;
      prevSqlite = afterBare.sqliteBytes;
      console.log(
        `  ${level} open: worker ${row.workerRssMiB} MiB, bare worker ${row.bareWorkerRssMiB} MiB, server ${row.serverRssMiB} MiB, SQLite ${row.sqliteMiB} MiB (opened in ${openingSeconds.toFixed(0)} s)`,
      );
    }
    const cap = cache ?? Number.NaN;
    const pastCap = rows.filter((r) => !(r.openPayments <= cap));
    const first = pastCap[0];
    const last = pastCap[pastCap.length - 1];
    // RSS moves by tens of MiB with garbage collection alone, so the reference is the highest of
    // "before any payment" and "first level past the cap": flat = the last level stays within 15%.
    const reference = first ? Math.max(first.workerRssMiB, base.workerRss / MiB) : Number.NaN;
    const growth = first && last && last !== first ? last.workerRssMiB / reference : Number.NaN;
    const flat = Number.isFinite(growth) ? growth <= 1.15 : undefined;
    console.log(
      `\nopen payments (cache ${cache ?? 'SDK default'}; load average ${ctx.loadAverageAtStart.join(' ')}; baseline before any payment: worker ${(base.workerRss / MiB).toFixed(0)} MiB, bare worker ${(base.bareRss / MiB).toFixed(0)} MiB, server ${(base.serverRss / MiB).toFixed(0)} MiB)`,
    );
    printTable([
      [
        'open',
        'worker MiB',
        'bare MiB',
        'server MiB',
        'SQLite MiB',
        'KiB/payment: worker',
        'bare',
        'server',
        'bare',
        'SQLite',
        'bare',
      ],
      ...rows.map((r) => [
        String(r.openPayments),
        r.workerRssMiB,
        r.bareWorkerRssMiB,
        r.serverRssMiB,
        r.sqliteMiB,
        r.perOpenPayment.workerKiB,
        r.perOpenPayment.bareWorkerKiB,
        r.perOpenPayment.serverKiB,
        r.perOpenPayment.serverBareKiB,
        r.perOpenPayment.sqliteKiB,
        r.perOpenPayment.sqliteBareKiB,
      ]),
    ]);
    console.log(
      flat === undefined
        ? '\nworker RSS flatness: not judged (fewer than two levels past the cache cap)'
        : `\nworker RSS from ${first?.openPayments} to ${last?.openPayments} open payments (past the cache cap): x${growth.toFixed(2)} of ${reference.toFixed(0)} MiB (the higher of: before any payment, first level) -> ${flat ? 'flat (met)' : 'NOT flat'}`,
    );
    const file = writeResult(flags.name as string, ctx, {
      parameters: {
        levels,
        workerCache: cache ?? 'SDK default',
        concurrency,
        target: 'worker RSS flat past the cache cap (<= 1.15x)',
      },
      baseline:
        'the same number of open bare workflows (signal, one no-op activity, then waiting), same server, same run',
      memoryBeforeAnyPayment: {
        workerMiB: round3(base.workerRss / MiB),
        bareWorkerMiB: round3(base.bareRss / MiB),
        serverMiB: round3(base.serverRss / MiB),
        sqliteMiB: round3(base.sqliteBytes / MiB),
      },
      results: rows,
      workerRssGrowthPastCap: round3(growth),
      flat,
    });
    console.log(`\nwritten: ${file}`);
  } finally {
    await cluster.close();
  }
}

/** Every one of `ids` is PAID (checked through visibility in pages, not one by one). */
async function waitAllPaid(cluster: Cluster, ids: readonly string[]): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const n = await cluster.client.workflow.count(
      'WorkflowType = "PaymentWorkflow" AND (PaymentStatus = "AWAITING_NOTIFICATION" OR PaymentStatus = "CONFIRMING")',
    );
    if (n.count === 0) return;
    if (Date.now() > deadline)
      throw new Error(`${n.count} payments of ${ids.length} still not PAID`);
    await sleep(500);
  }
}

/** Memory once the processes have been idle a moment (after a settle, RSS still moves a little). */
async function quietMemory(cluster: Cluster) {
  await sleep(3000);
  const samples = [];
  for (let i = 0; i < 3; i++) {
    samples.push(cluster.memory());
    await sleep(500);
  }
  return samples[samples.length - 1] as ReturnType<Cluster['memory']>;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
