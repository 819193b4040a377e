/**
 * Benchmark 2, end to end: from the notification's POST to the payment's PAID (the engine QUERYs
 * Alipay, checks notify_verify, runs its merchant-hook step, records PAID) against a bare
 * signal-with-start whose workflow runs one no-op activity, same server, interleaved rounds.
 * Each client sends the next payment once its last one is PAID (seen by polling `describe`);
 * latencies come from the workflow histories (the event that set PaymentStatus), so polling
 * granularity does not blur them.
 *
 * Run: npm run bench -- e2e [--rounds 5] [--seconds 4] [--concurrency 1,16]
 */
import { Cluster, PARTNER } from './lib/cluster';
import { closedLoop, forEachLimited } from './lib/load';
import { parseFlags, printComparison, printTable, runContext, writeResult } from './lib/report';
import { bareSettled, paymentSettled, settle } from './lib/settle';
import { compareRounds, historyCost, logFirst, Sides, statusReachedAt } from './lib/sides';
import { summarizeRound, type RoundResult, type RoundSummary } from './lib/stats';
import { TradePool } from './lib/trades';

const USAGE = `Usage: npm run bench -- e2e [--rounds N] [--seconds S] [--concurrency 1,16] [--stores N] [--name NAME]
  --rounds       engine/bare round pairs per concurrency (default 5)
  --seconds      length of one round (default 4; payments in flight are awaited)
  --concurrency  comma-separated client counts (default 1,16)
  --stores       stores the payments are spread over (default 1)
  --name         result file name (default e2e)`;

async function main(): Promise<void> {
  const flags = parseFlags(USAGE, {
    rounds: '5',
    seconds: '4',
    concurrency: '1,16',
    stores: '1',
    name: 'e2e',
  });
  const rounds = Number(flags.rounds);
  const roundMs = Number(flags.seconds) * 1000;
  const levels = (flags.concurrency as string).split(',').map(Number);
  const ctx = runContext();
  const cluster = await Cluster.start({ name: 'e2e' });
  try {
    const qrcodes = [];
    for (let s = 0; s < Number(flags.stores); s++)
      qrcodes.push(await cluster.createStore(`BENCH-${s}`));
    const pool = new TradePool(cluster, qrcodes);
    const sides = await Sides.create(cluster, pool);

    /** One side's round: closed loop on "started -> reached status", latencies from histories. */
    const round = async (
      concurrency: number,
      start: (ids: string[]) => Promise<string | undefined>,
      status: string,
      side: string,
    ): Promise<RoundSummary> => {
      const ids: string[] = [];
      const began = new Map<string, number>();
      const loop = await closedLoop(
        { concurrency, durationMs: roundMs },
        async () => {
          const t0 = Date.now();
          const id = await start(ids);
          if (!id) return false;
          began.set(id, t0);
          await sides.waitForStatus(id, status);
          return true;
        },
        logFirst(side),
      );
      const latencies: number[] = [];
      await forEachLimited([...began], 4, async ([id, t0]) => {
        const at = await statusReachedAt(sides.client, id, status);
        if (at !== undefined) latencies.push(at - t0);
      });
      const result: RoundResult = { ...loop, latenciesMs: latencies };
      return summarizeRound(result);
    };

    await pool.fill(30);
    for (const [c, n] of [[4, 12]] as const) {
      await closedLoop({ concurrency: c, count: n }, async () => {
        const id = await sides.engineNotify([]);
        if (id) await sides.waitForStatus(id, 'PAID');
      });
      await closedLoop({ concurrency: c, count: n }, async () => {
        await sides.waitForStatus(await sides.bareSignalWithStart([], 'bare-e2e'), 'DONE');
      });
    }

    const results = [];
    let rate = 10;
    let lastEngine = '';
    let lastBare = '';
    for (const concurrency of levels) {
      const engine: RoundSummary[] = [];
      const bare: RoundSummary[] = [];
      for (let r = 0; r < rounds; r++) {
        await pool.fill(Math.ceil(rate * (roundMs / 1000) * 2) + concurrency * 2 + 5);
        const engineIds: string[] = [];
        const e = await round(
          concurrency,
          (ids) => sides.engineNotify(ids).then((id) => (id && engineIds.push(id), id)),
          'PAID',
          'engine',
        );
        engine.push(e);
        rate = Math.max(rate, e.perSecond);
        await settle(sides.client, engineIds, paymentSettled);
        lastEngine = engineIds[engineIds.length - 1] ?? lastEngine;
        const bareIds: string[] = [];
        const b = await round(
          concurrency,
          (ids) => sides.bareSignalWithStart(ids, 'bare-e2e').then((id) => (bareIds.push(id), id)),
          'DONE',
          'bare',
        );
        bare.push(b);
        await settle(sides.client, bareIds, bareSettled);
        lastBare = bareIds[bareIds.length - 1] ?? lastBare;
        console.log(
          `  c=${concurrency} round ${r + 1}/${rounds}: engine ${e.perSecond.toFixed(1)}/s p50 ${e.p50.toFixed(0)} ms, bare ${b.perSecond.toFixed(1)}/s p50 ${b.p50.toFixed(0)} ms`,
        );
      }
      results.push({ concurrency, ...compareRounds(engine, bare) });
    }

    console.log(
      `\nnotification -> PAID (medians of ${rounds} interleaved rounds of ${roundMs / 1000} s; load average ${ctx.loadAverageAtStart.join(' ')})`,
    );
    printComparison(results, (x) => (x.ratio.throughput >= 0.7 ? 'met' : 'NOT met'));
    // What one payment costs Temporal (each event is server work; each task a round trip).
    const cost = {
      engine: lastEngine ? await historyCost(sides.client, lastEngine) : undefined,
      bare: lastBare ? await historyCost(sides.client, lastBare) : undefined,
    };
    const code = await historyCost(sides.client, `qrcode/${PARTNER}/BENCH-0/no-fee`).catch(
      () => undefined,
    );
    console.log('\nhistory of one payment (engine, PAID) vs one bare workflow (DONE):');
    printTable([
      ['', 'events', 'workflow tasks', 'activities', 'signals in', 'signals out', 'timers'],
      ...(
        Object.entries(cost).filter(([, c]) => c) as [string, NonNullable<typeof cost.engine>][]
      ).map(([k, c]) => [
        k,
        String(c.events),
        String(c.workflowTasks),
        String(c.activities),
        String(c.signalsReceived),
        String(c.signalsSent),
        String(c.timers),
      ]),
    ]);
    if (code)
      console.log(
        `the store's code workflow: ${code.events} events, ${code.workflowTasks} workflow tasks, ${code.signalsReceived} signals in, ${code.signalsSent} out (for every payment of the run)`,
      );
    const file = writeResult(flags.name as string, ctx, {
      parameters: {
        rounds,
        roundSeconds: roundMs / 1000,
        concurrency: levels,
        stores: Number(flags.stores),
        target: 'engine/bare throughput >= 0.7',
        completionPoll: 'describe, 20 ms backing off to 100 ms',
      },
      baseline: 'bare signal-with-start + one no-op activity, same server, same run',
      results,
      historyPerPayment: cost,
      codeWorkflowHistory: code,
    });
    console.log(`\nwritten: ${file}`);
  } finally {
    await cluster.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
