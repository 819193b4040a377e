/**
 * Benchmark 1, notification ingest: how fast the engine acknowledges Alipay's signed payment
 * notifications (POST /alipay/notify -> `success`), against a bare `signalWithStart` of a trivial
 * workflow on the same Temporal server, in interleaved rounds (engine, bare, engine, bare ...).
 * The notifications are real: each is the sandbox's signed notification of a trade a customer
 * paid. The receiver's own timings split the acknowledgement into verification and Temporal calls.
 *
 * Run: npm run bench -- ingest [--rounds 5] [--requests 10,32,64] [--concurrency 1,16,64] [--stores 1]
 *      [--workers running|paused]
 */
import { Cluster } from './lib/cluster';
import { compareRounds, logFirst, Sides } from './lib/sides';
import { closedLoop } from './lib/load';
import { parseFlags, printComparison, printTable, runContext, writeResult } from './lib/report';
import { bareSettled, paymentSettled, settle } from './lib/settle';
import { percentile, round3, summarizeRound, median, type RoundSummary } from './lib/stats';
import { TradePool } from './lib/trades';

const USAGE = `Usage: npm run bench -- ingest [--rounds N] [--requests 10,32,64] [--concurrency 1,16,64] [--stores N] [--name NAME]
  --rounds       engine/bare round pairs per concurrency (default 5)
  --requests     notifications per round at each concurrency (default 10,32,64). Rounds are
                 bounded by count, not time: after each engine round the engine's payments
                 are confirmed before the bare round starts, and that wait grows with the count
  --concurrency  comma-separated client counts (default 1,16,64)
  --stores       stores the payments are spread over (default 1: one busy store)
  --workers      running (default) or paused: with paused, both workers are stopped (SIGSTOP)
                 during each round, so the rounds time the acknowledgement alone, without the
                 previous payments' workflow and activity work on the same server; they are
                 resumed to settle the round
  --name         result file name (default ingest -> bench/results/ingest.json)`;

async function main(): Promise<void> {
  const flags = parseFlags(USAGE, {
    rounds: '5',
    requests: '10,32,64',
    concurrency: '1,16,64',
    stores: '1',
    workers: 'running',
    name: 'ingest',
  });
  if (flags.workers !== 'running' && flags.workers !== 'paused') {
    console.error(USAGE);
    process.exit(2);
  }
  const paused = flags.workers === 'paused';
  const rounds = Number(flags.rounds);
  const counts = (flags.requests as string).split(',').map(Number);
  const levels = (flags.concurrency as string).split(',').map(Number);
  const ctx = runContext();
  const cluster = await Cluster.start({ name: 'ingest' });
  /** Stops (or resumes) both workers when the rounds run with `--workers paused`. */
  const workers = (signal: 'SIGSTOP' | 'SIGCONT') => {
    if (paused) for (const w of [cluster.worker, cluster.bare]) process.kill(w.pid, signal);
  };
  try {
    const qrcodes = [];
    for (let s = 0; s < Number(flags.stores); s++)
      qrcodes.push(await cluster.createStore(`BENCH-${s}`));
    const pool = new TradePool(cluster, qrcodes);
    const sides = await Sides.create(cluster, pool);
    const engineOp = (ids: string[]) => async () => (await sides.engineNotify(ids)) !== undefined;
    const bareOp = (ids: string[]) => async () => void (await sides.bareSignalWithStart(ids));

    // Warm-up: both sides' code paths, caches and connections (not measured).
    await pool.fill(40);
    const warm: string[] = [];
    await closedLoop({ concurrency: 4, count: 30 }, engineOp(warm));
    await settle(cluster.client, warm, paymentSettled);
    const warmBare: string[] = [];
    await closedLoop({ concurrency: 4, count: 30 }, bareOp(warmBare));
    await settle(cluster.client, warmBare, bareSettled);

    const results = [];
    for (const [level, concurrency] of levels.entries()) {
      const count = counts[level] ?? counts[counts.length - 1] ?? 10;
      const engine: RoundSummary[] = [];
      const bare: RoundSummary[] = [];
      const split: Record<string, number[]>[] = [];
      let poolRanDry = 0;
      for (let r = 0; r < rounds; r++) {
        await pool.fill(count + 5);
        await cluster.timings(true);
        const ids: string[] = [];
        workers('SIGSTOP');
        const e = await closedLoop({ concurrency, count }, engineOp(ids), logFirst('engine'));
        workers('SIGCONT');
        if (pool.size === 0) poolRanDry++;
        split.push(await cluster.timings(true));
        const es = summarizeRound(e);
        engine.push(es);
        await settle(cluster.client, ids, paymentSettled);
        const bareIds: string[] = [];
        workers('SIGSTOP');
        const b = await closedLoop({ concurrency, count }, bareOp(bareIds), logFirst('bare'));
        workers('SIGCONT');
        bare.push(summarizeRound(b));
        await settle(cluster.client, bareIds, bareSettled);
        console.log(
          `  c=${concurrency} round ${r + 1}/${rounds}: engine ${es.perSecond.toFixed(1)}/s p50 ${es.p50.toFixed(1)} ms, bare ${bare[r]?.perSecond.toFixed(1)}/s p50 ${bare[r]?.p50.toFixed(1)} ms`,
        );
      }
      results.push({
        concurrency,
        ...compareRounds(engine, bare),
        ackSplit: splitOf(split),
        poolRanDry,
      });
    }

    console.log(
      `\ningest (medians of ${rounds} interleaved rounds of ${counts.join('/')} notifications${paused ? ', workers paused during rounds' : ''}; load average ${ctx.loadAverageAtStart.join(' ')})`,
    );
    printComparison(results, (x) =>
      x.concurrency <= 16 ? (x.ratio.throughput >= 0.8 ? 'met' : 'NOT met') : '-',
    );
    console.log("\nacknowledgement split (receiver side, ms; medians of the rounds' p50 / p95):");
    printTable([
      ['concurrency', 'part', 'p50', 'p95', 'calls/round'],
      ...results.flatMap((x) =>
        Object.entries(x.ackSplit).map(([part, s]) => [
          String(x.concurrency),
          part,
          s.p50,
          s.p95,
          s.perRound,
        ]),
      ),
    ]);
    const file = writeResult(flags.name as string, ctx, {
      parameters: {
        rounds,
        requestsPerRound: counts,
        concurrency: levels,
        stores: Number(flags.stores),
        workers: flags.workers,
        target: 'engine/bare throughput >= 0.8 at concurrency 1 and 16',
      },
      baseline:
        'bare signalWithStart of a trivial workflow (signal, one no-op activity), same server, same run',
      results,
    });
    console.log(`\nwritten: ${file}`);
  } finally {
    workers('SIGCONT'); // a stopped process would not see the SIGTERM of close()
    await cluster.close();
  }
}

function splitOf(rounds: Record<string, number[]>[]) {
  const parts = [...new Set(rounds.flatMap((r) => Object.keys(r)))].sort();
  return Object.fromEntries(
    parts.map((part) => [
      part,
      {
        p50: round3(median(rounds.map((r) => percentile(r[part] ?? [], 50)))),
        p95: round3(median(rounds.map((r) => percentile(r[part] ?? [], 95)))),
        perRound: round3(median(rounds.map((r) => (r[part] ?? []).length))),
      },
    ]),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
