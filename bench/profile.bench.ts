/**
 * Benchmark 6, where the ingest path spends its CPU: the engine's HTTP service and worker run
 * under `node --cpu-prof` while notifications arrive at concurrency 16 (as in the ingest
 * benchmark); then the top self-time functions of each process (and of the worker's workflow
 * threads) are printed, and by area (package, node internals, src folder).
 *
 * Run: npm run bench -- profile [--seconds 10] [--concurrency 16] [--top 15] [--keep]
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster } from './lib/cluster';
import { cpuSeconds } from './lib/processes';
import { summarize, type ProfileSummary } from './lib/cpu-profile';
import { closedLoop } from './lib/load';
import { parseFlags, printTable, runContext, writeResult } from './lib/report';
import { paymentSettled, settle } from './lib/settle';
import { logFirst, roundAll, Sides } from './lib/sides';
import { round3, summarizeRound } from './lib/stats';
import { TradePool } from './lib/trades';

const USAGE = `Usage: npm run bench -- profile [--seconds S] [--concurrency N] [--top N] [--keep yes] [--name NAME]
  --seconds      length of the profiled load (default 10)
  --concurrency  notifications in flight (default 16)
  --top          functions listed per process (default 15)
  --keep         yes: keep the .cpuprofile files (their folder is printed; open them in Chrome DevTools)
  --name         result file name (default profile)`;

async function main(): Promise<void> {
  const flags = parseFlags(USAGE, {
    seconds: '10',
    concurrency: '16',
    top: '15',
    keep: 'no',
    name: 'profile',
  });
  const seconds = Number(flags.seconds);
  const concurrency = Number(flags.concurrency);
  const top = Number(flags.top);
  const ctx = runContext();
  const profDir = mkdtempSync(path.join(os.tmpdir(), 'aqe-cpu-prof-'));
  const cluster = await Cluster.start({
    name: 'profile',
    engineNodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
  });
  const pids = { http: cluster.http.pid, worker: cluster.worker.pid };
  let load;
  let loadStart = 0;
  let loadEnd = 0;
  let settled = 0;
  const cpu: Record<string, number> = {};
  try {
    const pool = new TradePool(cluster, [await cluster.createStore('BENCH-0')]);
    const sides = await Sides.create(cluster, pool);
    await pool.fill(Math.max(200, seconds * 30));
    const ids: string[] = [];
    const parts = {
      'Temporal server (Go)': cluster.temporal.process.pid as number,
      'engine worker': cluster.worker.pid,
      'engine HTTP service': cluster.http.pid,
      'Alipay sandbox': cluster.sandbox.pid,
    };
    const before = Object.fromEntries(
      Object.entries(parts).map(([k, pid]) => [k, cpuSeconds(pid)]),
    );
    const selfBefore = process.cpuUsage();
    loadStart = Date.now();
    const r = await closedLoop(
      { concurrency, durationMs: seconds * 1000 },
      async () => (await sides.engineNotify(ids)) !== undefined,
      logFirst('engine'),
    );
    loadEnd = Date.now();
    await settle(sides.client, ids, paymentSettled, { sample: 64, timeoutMs: 300_000 });
    settled = Date.now();
    for (const [k, pid] of Object.entries(parts)) cpu[k] = cpuSeconds(pid) - (before[k] ?? 0);
    const self = process.cpuUsage(selfBefore);
    cpu['load generator (this process)'] = (self.user + self.system) / 1e6;
    load = roundAll(summarizeRound(r));
  } finally {
    await cluster.close();
  }

  const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread.
  const parts = (f: string) => {
    const [, , , pid, thread] = f.split('.');
    return { pid: Number(pid), main: thread === '0' };
  };
  const groups: Record<string, string[]> = {
    'HTTP service': files.filter((f) => parts(f).pid === pids.http),
    'worker, main thread (activities, SDK core bridge)': files.filter(
      (f) => parts(f).pid === pids.worker && parts(f).main,
    ),
    'worker, workflow threads': files.filter((f) => parts(f).pid === pids.worker && !parts(f).main),
  };
  console.log(
    `\nCPU profile of the ingest path: ${load.completed} notifications in ${seconds} s at concurrency ${concurrency} (${load.perSecond}/s, ack p50 ${load.p50} ms); load average ${ctx.loadAverageAtStart.join(' ')}`,
  );
  // Only the load: each profile ends when its process exited, so the window is counted back.
  // The worker's window runs on until the payments of the load were done (confirmation follows
  // the acknowledgement); the HTTP service's ends with the load.
  const windowOf = (exitedAt: number | undefined, end: number) =>
    exitedAt === undefined ? undefined : { fromMs: exitedAt - loadStart, toMs: exitedAt - end };
  const windows: Record<string, ReturnType<typeof windowOf>> = {
    'HTTP service': windowOf(cluster.http.exitedAt, loadEnd),
  };
  const workerWindow = windowOf(cluster.worker.exitedAt, settled);
  const window = (settled - loadStart) / 1000;
  console.log(
    `\nCPU seconds from the start of the load until its payments were done (${window.toFixed(1)} s, 2 cores):`,
  );
  printTable([
    ['process', 'CPU s', 'share of the window'],
    ...Object.entries(cpu).map(([k, v]) => [k, v, `${((v / window) * 100).toFixed(0)}% of a core`]),
  ]);
  const out: Record<string, unknown> = {
    cpuSeconds: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round3(v)])),
    windowSeconds: round3(window),
  };
  for (const [group, list] of Object.entries(groups)) {
    if (list.length === 0) {
      console.log(`\n${group}: no profile written`);
      continue;
    }
    const s: ProfileSummary = summarize(
      list.map((f) => path.join(profDir, f)),
      windows[group] ?? workerWindow,
    );
    const pct = (ms: number) => `${((ms / s.busyMs) * 100).toFixed(1)}%`;
    console.log(
      `\n${group}: ${(s.busyMs / 1000).toFixed(1)} s busy of ${(s.wallMs / 1000).toFixed(1)} s profiled (${list.length} profile${list.length > 1 ? 's' : ''})`,
    );
    printTable([
      ['self time', 'ms', 'function', 'where'],
      ...s.functions.slice(0, top).map((f) => [pct(f.ms), f.ms, f.name, f.where]),
    ]);
    console.log(
      '  by area: ' +
        s.areas
          .slice(0, 8)
          .map((a) => `${a.area} ${pct(a.ms)}`)
          .join(', '),
    );
    out[group] = {
      busyMs: round3(s.busyMs),
      top: s.functions
        .slice(0, top)
        .map((f) => ({ ...f, ms: round3(f.ms), share: round3(f.ms / s.busyMs) })),
      areas: s.areas
        .slice(0, 12)
        .map((a) => ({ ...a, ms: round3(a.ms), share: round3(a.ms / s.busyMs) })),
    };
  }
  if (flags.keep === 'yes') console.log(`\nprofiles kept in ${profDir}`);
  else rmSync(profDir, { recursive: true, force: true });
  const file = writeResult(flags.name as string, ctx, {
    parameters: { seconds, concurrency, top },
    load,
    profiles: out,
  });
  console.log(`\nwritten: ${file}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
