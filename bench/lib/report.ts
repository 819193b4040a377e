import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporalCliPath } from '../../scripts/lib/temporal-tools';

/**
 * What every result file records besides its figures: the machine, the versions, the commit and
 * the load average (absolute times on a shared 2-core machine are noise; ratios against the
 * baseline of the same run are the figures that count).
 */
const ROOT = path.resolve(__dirname, '..', '..');

export interface RunContext {
  readonly startedAt: string;
  readonly machine: Record<string, unknown>;
  readonly versions: Record<string, string>;
  readonly loadAverageAtStart: readonly number[];
}

export function runContext(): RunContext {
  const cpus = os.cpus();
  return {
    startedAt: new Date().toISOString(),
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    },
    versions: versions(),
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

function versions(): Record<string, string> {
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string }>;
  };
  const v = (name: string) => lock.packages[`node_modules/${name}`]?.version ?? 'unknown';
  const safe = (f: () => string) => {
    try {
      return f().trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    node: process.version,
    temporalioSdk: v('@temporalio/worker'),
    fastify: v('fastify'),
    temporalCli: safe(
      () =>
        execFileSync(temporalCliPath(), ['--version'], { encoding: 'utf8' }).split(
          '\n',
        )[0] as string,
    ),
    commit: safe(() =>
      execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }),
    ),
    /** The last commit that changed src/ (what the engine figures measure). */
    srcCommit: safe(() =>
      execFileSync('git', ['log', '-1', '--format=%h %s', '--', 'src'], {
        cwd: ROOT,
        encoding: 'utf8',
      }),
    ),
    dirty: safe(() =>
      execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' })
        ? 'yes (src)'
        : 'no',
    ),
  };
}

/** Writes `bench/results/<name>.json` (or into BENCH_RESULTS_DIR) and answers its path. */
export function writeResult(name: string, ctx: RunContext, body: Record<string, unknown>): string {
  const dir = process.env.BENCH_RESULTS_DIR
    ? path.resolve(process.env.BENCH_RESULTS_DIR)
    : path.join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  const doc = {
    benchmark: name,
    ...ctx,
    finishedAt: new Date().toISOString(),
    loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
    ...body,
  };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  return path.relative(process.cwd(), file);
}

/** A plain text table: the first row is the header. */
export function printTable(rows: readonly (readonly (string | number)[])[]): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = (cells[0] ?? []).map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const [n, r] of cells.entries()) {
    console.log(
      r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '),
    );
    if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

/** One concurrency level of an engine-vs-bare benchmark, medians of the rounds. */
export interface Comparison {
  readonly concurrency: number;
  readonly engine: { perSecond: number; p50: number; p95: number; p99: number };
  readonly bare: { perSecond: number; p50: number; p95: number; p99: number };
  readonly ratio: { throughput: number };
}

/** The engine-vs-bare table of a benchmark; `target` says whether a level met its target. */
export function printComparison(results: readonly Comparison[], target: (c: Comparison) => string) {
  printTable([
    [
      'concurrency',
      'engine/s',
      'bare/s',
      'ratio',
      'target',
      'engine p50',
      'p95',
      'p99',
      'bare p50',
      'p95',
      'p99',
    ],
    ...results.map((x) => [
      String(x.concurrency),
      x.engine.perSecond,
      x.bare.perSecond,
      `${x.ratio.throughput.toFixed(2)}x`,
      target(x),
      x.engine.p50,
      x.engine.p95,
      x.engine.p99,
      x.bare.p50,
      x.bare.p95,
      x.bare.p99,
    ]),
  ]);
}

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-';
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** Parses `--flag value` options of a benchmark; `--help` prints `usage` and exits. */
export function parseFlags(usage: string, known: Record<string, string>): Record<string, string> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    process.exit(0);
  }
  const out: Record<string, string> = { ...known };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    if (!flag.startsWith('--')) throw new Error(`unexpected argument ${flag} (try --help)`);
    const name = flag.slice(2);
    if (name === 'quick') {
      out.quick = 'true';
      continue;
    }
    if (!(name in known)) throw new Error(`unknown option ${flag} (try --help)`);
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    out[name] = value;
    i++;
  }
  return out;
}
