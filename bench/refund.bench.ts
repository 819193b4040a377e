/**
 * Benchmark 3, refunds: the merchant's refund round trip, over HTTP (POST /v1/payments/:id/refunds)
 * and through the client (PaymentEngineClient.refund), against a bare Update that runs one no-op
 * activity, same server, interleaved rounds. Sequential refunds, then bursts of 20 concurrent
 * refunds on one payment (the engine runs a payment's refunds one at a time, and so does the
 * bare Update) and on 20 payments. The engine's refund includes Alipay's REFUND (sandbox).
 *
 * Run: npm run bench -- refund [--rounds 5] [--sequential 10] [--burst 20]
 */
import { Cluster as Cluster } from './lib/cluster';
import { closedLoop, forEachLimited } from './lib/load';
import { parseFlags, printTable, runContext, writeResult } from './lib/report';
import { logFirst, roundAll, Sides } from './lib/sides';
import { medianOfRounds, round3, summarizeRound, type RoundSummary } from './lib/stats';
import { TradePool } from './lib/trades';

const USAGE = `Usage: npm run bench -- refund [--rounds N] [--sequential N] [--burst N] [--name NAME]
  --rounds      interleaved rounds (default 5)
  --sequential  refunds per side per round, one after the other (default 10)
  --burst       concurrent refunds per burst (default 20)
  --name        result file name (default refund)`;

let seq = 0;
const refundId = () => `BR-${process.pid}-${seq++}`;

async function main(): Promise<void> {
  const flags = parseFlags(USAGE, { rounds: '5', sequential: '10', burst: '20', name: 'refund' });
  const rounds = Number(flags.rounds);
  const sequential = Number(flags.sequential);
  const burst = Number(flags.burst);
  const ctx = runContext();
  const cluster = await Cluster.start({ name: 'refund' });
  try {
    const pool = new TradePool(cluster, [await cluster.createStore('BENCH-0')], '100.00');
    const sides = await Sides.create(cluster, pool);
    // Payments (PAID, 100.00 USD) and bare workflows (DONE) to refund: a few for the sequential
    // refunds (spread, so no history grows long), one per round for the one-payment bursts, and
    // `burst` for the many-payment bursts.
    const need = 6 + rounds + burst;
    await pool.fill(need);
    const payments: string[] = [];
    const bares: string[] = [];
    await forEachLimited(Array.from({ length: need }), 8, async () => {
      const id = await sides.engineNotify([]);
      if (!id) throw new Error('trade pool ran dry');
      await sides.waitForStatus(id, 'PAID');
      payments.push(id.slice(id.lastIndexOf('/') + 1));
      bares.push(await sides.bareSignalWithStart([], 'bare-refund'));
    });
    await forEachLimited(bares, 8, (id) => sides.waitForStatus(id, 'DONE'));
    const seqPayments = payments.slice(0, 6);
    const seqBares = bares.slice(0, 6);
    const onePayment = payments.slice(6, 6 + rounds);
    const oneBare = bares.slice(6, 6 + rounds);
    const manyPayments = payments.slice(6 + rounds);
    const manyBares = bares.slice(6 + rounds);

    const http = async (outTradeNo: string) => {
      await cluster.api(
        'POST',
        `/v1/payments/${outTradeNo}/refunds`,
        { amount: '0.01', reason: 'bench' },
        { 'idempotency-key': refundId() },
      );
    };
    const client = async (outTradeNo: string) => {
      const entry = await cluster.engine.refund(outTradeNo, {
        refundId: refundId(),
        amount: '0.01',
        reason: 'bench',
      });
      if (entry.status !== 'SUCCEEDED') throw new Error(`refund ${entry.refundId} ${entry.status}`);
    };
    const bare = async (workflowId: string) => {
      const id = refundId();
      await cluster.client.workflow
        .getHandle(workflowId)
        .executeUpdate('refund', { args: [{ refundId: id }], updateId: `refund/${id}` });
    };

    // Warm-up.
    await closedLoop({ concurrency: 1, count: 6 }, (i) => http(seqPayments[i % 6] as string));
    await closedLoop({ concurrency: 1, count: 6 }, (i) => client(seqPayments[i % 6] as string));
    await closedLoop({ concurrency: 1, count: 6 }, (i) => bare(seqBares[i % 6] as string));

    const K = {
      seqHttp: 'sequential HTTP',
      seqClient: 'sequential client',
      seqBare: 'sequential bare',
      oneEngine: `${burst} concurrent, one payment (client)`,
      oneBare: `${burst} concurrent, one bare workflow`,
      manyEngine: `${burst} concurrent, ${burst} payments (client)`,
      manyBare: `${burst} concurrent, ${burst} bare workflows`,
    } as const;
    const cases = new Map<string, RoundSummary[]>(Object.values(K).map((k) => [k, []]));
    const run = async (
      key: string,
      concurrency: number,
      count: number,
      op: (i: number) => Promise<void>,
    ) => {
      const s = summarizeRound(await closedLoop({ concurrency, count }, op, logFirst(key)));
      cases.get(key)?.push(s);
      return s;
    };
    const at = (list: readonly string[], i: number) => list[i % list.length] as string;
    for (let r = 0; r < rounds; r++) {
      const a = await run(K.seqHttp, 1, sequential, (i) => http(at(seqPayments, i)));
      const b = await run(K.seqClient, 1, sequential, (i) => client(at(seqPayments, i)));
      const c = await run(K.seqBare, 1, sequential, (i) => bare(at(seqBares, i)));
      await run(K.oneEngine, burst, burst, () => client(at(onePayment, r)));
      await run(K.oneBare, burst, burst, () => bare(at(oneBare, r)));
      await run(K.manyEngine, burst, burst, (i) => client(at(manyPayments, i)));
      await run(K.manyBare, burst, burst, (i) => bare(at(manyBares, i)));
      console.log(
        `  round ${r + 1}/${rounds}: p50 HTTP ${a.p50.toFixed(0)} ms, client ${b.p50.toFixed(0)} ms, bare ${c.p50.toFixed(0)} ms`,
      );
    }
    const m = new Map([...cases].map(([k, v]) => [k, medianOfRounds(v)]));
    const p50 = (k: string) => m.get(k)?.p50 ?? Number.NaN;
    const ratios = {
      httpVsBareP50: round3(p50(K.seqHttp) / p50(K.seqBare)),
      clientVsBareP50: round3(p50(K.seqClient) / p50(K.seqBare)),
      burstOnePaymentVsBareP50: round3(p50(K.oneEngine) / p50(K.oneBare)),
      burstManyPaymentsVsBareP50: round3(p50(K.manyEngine) / p50(K.manyBare)),
    };
    const verdict = (x: number) => (x <= 1.5 ? 'met' : 'NOT met');
    console.log(
      `\nrefund round trip (medians of ${rounds} interleaved rounds; load average ${ctx.loadAverageAtStart.join(' ')})`,
    );
    printTable([
      ['case', 'per s', 'p50 ms', 'p95', 'p99', 'failed'],
      ...[...m].map(([k, s]) => [k, s.perSecond, s.p50, s.p95, s.p99, String(s.failed)]),
    ]);
    console.log(
      `\np50 ratios vs bare (target <= 1.5x, sequential): HTTP ${ratios.httpVsBareP50}x (${verdict(ratios.httpVsBareP50)}), client ${ratios.clientVsBareP50}x (${verdict(ratios.clientVsBareP50)}); burst on one payment ${ratios.burstOnePaymentVsBareP50}x, on ${burst} payments ${ratios.burstManyPaymentsVsBareP50}x`,
    );
    const file = writeResult(flags.name as string, ctx, {
      parameters: {
        rounds,
        sequential,
        burst,
        amount: '0.01 USD of 100.00 USD payments',
        target: 'refund p50 <= 1.5x bare (sequential)',
      },
      baseline:
        'bare Update running one no-op activity (one at a time per workflow), same server, same run',
      results: Object.fromEntries(
        [...m].map(([k, s]) => [k, { ...roundAll(s), rounds: (cases.get(k) ?? []).map(roundAll) }]),
      ),
      ratios,
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
