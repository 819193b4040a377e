/**
 * Runs the benchmarks, one child process each (so one benchmark's JIT state, heap and servers do
 * not colour the next), and prints their figures in turn. Benchmarks print and write
 * bench/results/<name>.json; nothing here asserts timing.
 *
 * Usage: npm run bench                   every benchmark, in the order below
 *        npm run bench -- NAME [flags]   one benchmark (flags go to it; `-- NAME --help` lists them)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Cheapest first: a broken set-up shows up early. */
const ORDER = ['gateway', 'ingest', 'e2e', 'refund', 'open-payments', 'profile'];

const HELP = `Usage: npm run bench [-- NAME [benchmark flags]]
Benchmarks: ${ORDER.join(', ')} (bench/<name>.bench.ts).
Each starts what it needs on free loopback ports (Temporal dev server, Alipay sandbox, the engine's
worker and HTTP service, a bare baseline worker), prints a table and writes bench/results/<name>.json.
--quick (all): fewer and shorter rounds, for a smoke test; the figures are then rough.`;

const QUICK: Record<string, string[]> = {
  gateway: ['--quick'],
  ingest: ['--rounds', '2', '--requests', '5,16', '--concurrency', '1,16'],
  e2e: ['--rounds', '2', '--seconds', '3'],
  refund: ['--rounds', '2', '--sequential', '5', '--burst', '10'],
  'open-payments': ['--levels', '40,80', '--cache', '20'],
  profile: ['--seconds', '8'],
};

function main(argv: string[]): number {
  if (argv[0] === '--help' || argv[0] === '-h') {
    console.log(HELP);
    return 0;
  }
  const quick = argv[0] === '--quick';
  const only = argv[0] !== undefined && !argv[0].startsWith('--') ? argv[0] : undefined;
  if (only !== undefined && !existsSync(join(__dirname, `${only}.bench.ts`))) {
    console.error(`no benchmark named ${only} (there are: ${ORDER.join(', ')})`);
    return 2;
  }
  const names = only !== undefined ? [only] : ORDER;
  const started = performance.now();
  const failed: string[] = [];
  for (const name of names) {
    console.log(`\n=== ${name} ===`);
    const args = only !== undefined ? argv.slice(1) : quick ? (QUICK[name] ?? []) : [];
    const t = performance.now();
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(__dirname, `${name}.bench.ts`), ...args],
      { stdio: 'inherit' },
    );
    console.log(`(${name}: ${((performance.now() - t) / 1000).toFixed(0)} s)`);
    if (result.status !== 0) failed.push(`${name} (exit ${result.status ?? result.signal})`);
  }
  console.log(`\nbenchmarks took ${((performance.now() - started) / 60_000).toFixed(1)} min`);
  if (failed.length > 0) console.error(`failed: ${failed.join(', ')}`);
  return failed.length === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
