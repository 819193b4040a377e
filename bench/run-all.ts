/**
 * Runs every `bench/*.bench.ts`, one child process each (so one benchmark's JIT state and heap
 * do not colour the next), and prints their figures in turn. Benchmarks print; nothing here
 * asserts timing. Extra arguments (e.g. `--quick`) are passed to each benchmark.
 *
 * Usage: npm run bench [-- --quick] [-- --only gateway]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const HELP = `Usage: tsx bench/run-all.ts [--only <name>] [benchmark args...]
Runs each bench/*.bench.ts in its own process. --only gateway runs bench/gateway.bench.ts.`;

function main(argv: string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? argv[onlyAt + 1] : undefined;
  const passThrough = onlyAt >= 0 ? argv.filter((_, i) => i !== onlyAt && i !== onlyAt + 1) : argv;
  const dir = __dirname;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only === undefined || f === `${only}.bench.ts`)
    .sort();
  if (files.length === 0) {
    console.error(only ? `no benchmark named ${only} in ${dir}` : `no *.bench.ts in ${dir}`);
    return 1;
  }
  let failed = 0;
  for (const file of files) {
    console.log(`\n=== ${file} ===`);
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(dir, file), ...passThrough],
      {
        stdio: 'inherit',
      },
    );
    if (result.status !== 0) {
      failed++;
      console.error(`${file} exited with ${result.status ?? result.signal}`);
    }
  }
  return failed === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
