/**
 * Prints the README's "Performance" table (Markdown) from bench/results/*.json, so the README
 * shows exactly what the last `npm run bench` measured.
 *
 * Run: npx tsx bench/summary.ts [results-dir]
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const dir = path.resolve(process.argv[2] ?? path.join(__dirname, 'results'));
const load = (name: string): Json | undefined => {
  const file = path.join(dir, `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Json) : undefined;
};
const f = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');
const rows: string[][] = [];
const loads: string[] = [];

const ingest = load('ingest');
if (ingest) {
  loads.push(`ingest ${ingest.loadAverageAtStart[0]}`);
  for (const r of ingest.results as Json[]) {
    rows.push([
      `Notification ingest (ack), concurrency ${r.concurrency}`,
      `${f(r.engine.perSecond)}/s, p50 ${f(r.engine.p50)} ms`,
      `${f(r.bare.perSecond)}/s, p50 ${f(r.bare.p50)} ms`,
      `${f(r.ratio.throughput)}x`,
      r.concurrency <= 16 ? `>= 0.8x: ${verdict(r.ratio.throughput >= 0.8)}` : '-',
    ]);
  }
}
const e2e = load('e2e');
if (e2e) {
  loads.push(`e2e ${e2e.loadAverageAtStart[0]}`);
  for (const r of e2e.results as Json[]) {
    rows.push([
      `Notification -> PAID, concurrency ${r.concurrency}`,
      `${f(r.engine.perSecond)}/s, p50 ${f(r.engine.p50)} ms`,
      `${f(r.bare.perSecond)}/s, p50 ${f(r.bare.p50)} ms`,
      `${f(r.ratio.throughput)}x`,
      `>= 0.7x: ${verdict(r.ratio.throughput >= 0.7)}`,
    ]);
  }
}
const refund = load('refund');
if (refund) {
  loads.push(`refund ${refund.loadAverageAtStart[0]}`);
  const res = refund.results as Record<string, Json>;
  const key = (prefix: string) => Object.keys(res).find((k) => k.startsWith(prefix)) as string;
  const p50 = (k: string) => `p50 ${f(res[k]?.p50)} ms`;
  rows.push([
    'Refund round trip, sequential (HTTP / client)',
    `${p50('sequential HTTP')} / ${f(res['sequential client']?.p50)} ms`,
    `${p50('sequential bare')} (Update + 1 no-op activity)`,
    `${f(refund.ratios.httpVsBareP50)}x / ${f(refund.ratios.clientVsBareP50)}x`,
    `<= 1.5x: ${verdict(refund.ratios.httpVsBareP50 <= 1.5 && refund.ratios.clientVsBareP50 <= 1.5)}`,
  ]);
  const one = key(`${refund.parameters.burst} concurrent, one payment`);
  const oneBare = key(`${refund.parameters.burst} concurrent, one bare`);
  const many = key(`${refund.parameters.burst} concurrent, ${refund.parameters.burst} payments`);
  const manyBare = key(`${refund.parameters.burst} concurrent, ${refund.parameters.burst} bare`);
  rows.push([
    `Refunds, ${one}`,
    p50(one),
    p50(oneBare),
    `${f(refund.ratios.burstOnePaymentVsBareP50)}x`,
    '-',
  ]);
  rows.push([
    `Refunds, ${many}`,
    p50(many),
    p50(manyBare),
    `${f(refund.ratios.burstManyPaymentsVsBareP50)}x`,
    '-',
  ]);
}
const open = load('open-payments');
if (open) {
  loads.push(`open-payments ${open.loadAverageAtStart[0]}`);
  const results = open.results as Json[];
  const last = results[results.length - 1] as Json;
  const cap = typeof open.parameters.workerCache === 'number' ? open.parameters.workerCache : 0;
  const first = results.find((r) => r.openPayments > cap) ?? (results[0] as Json);
  // The same rule as open-payments.bench.ts: within 15% of the higher of "before any payment"
  // and the first level past the cache cap (RSS moves by tens of MiB with GC alone).
  const reference = Math.max(first.workerRssMiB, open.memoryBeforeAnyPayment.workerMiB);
  const growth = last.workerRssMiB / reference;
  rows.push([
    `Worker RSS (MiB) at N open payments, cache ${open.parameters.workerCache}`,
    `before: ${f(open.memoryBeforeAnyPayment.workerMiB)}; ${results.map((r) => `${r.openPayments}: ${f(r.workerRssMiB)}`).join(', ')}`,
    `before: ${f(open.memoryBeforeAnyPayment.bareWorkerMiB)}; ${results.map((r) => `${r.openBare}: ${f(r.bareWorkerRssMiB)}`).join(', ')}`,
    `x${f(growth)} of ${f(reference)} MiB`,
    `flat (<= 1.15x): ${verdict(growth <= 1.15)}`,
  ]);
  rows.push([
    `Per open payment at ${last.openPayments}: server RSS / SQLite`,
    `${f(last.perOpenPayment.serverKiB)} / ${f(last.perOpenPayment.sqliteKiB)} KiB`,
    `${f(last.perOpenPayment.serverBareKiB)} / ${f(last.perOpenPayment.sqliteBareKiB)} KiB`,
    `${f(last.perOpenPayment.sqliteKiB / last.perOpenPayment.sqliteBareKiB)}x (SQLite)`,
    '-',
  ]);
}
const gateway = load('gateway');
if (gateway) {
  for (const r of (gateway.results as Json[]).filter((x) => !x.informational)) {
    rows.push([
      `Gateway: ${r.operation} (ops/s)`,
      String(r.oursPerSecond),
      `${r.barePerSecond} (${r.bare})`,
      `${f(r.ratio)}x cost`,
      `cost < 1.2x: ${verdict(r.ratio < 1.2)}`,
    ]);
  }
}

console.log('| Figure | Engine | Bare (same run) | Ratio | Target |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
const any = ingest ?? e2e ?? refund ?? open;
if (any)
  console.log(
    `\nMachine: ${any.machine.cpus} × ${any.machine.cpuModel}, Node ${any.versions.node}, Temporal SDK ${any.versions.temporalioSdk}, ${any.versions.temporalCli}, commit ${any.versions.commit}; load average (1 min) at start: ${loads.join(', ')}.`,
  );
