/**
 * `npm run engine-layout -- up|down|status`: the engine in its production layout, against any
 * Temporal (default: the local cluster of `npm run cluster -- up`, 127.0.0.1:7833). See
 * scripts/lib/engine-layout.ts for the processes and README "Running on a Temporal cluster".
 */
import { ENGINE_ENV_HELP } from '../src/config';
import {
  DEFAULT_LAYOUT_DIR,
  DEFAULT_PORT_BASE,
  DEFAULT_TEMPORAL_ADDRESS,
  knownProcesses,
  layoutDown,
  layoutUp,
  pidOf,
  planLayout,
  rssMiB,
} from './lib/engine-layout';

function help(): string {
  const width = Math.max(...ENGINE_ENV_HELP.map(([name]) => name.length));
  return [
    'The engine in its production layout: the sandbox (unless ALIPAY_GATEWAY_URL is set), M HTTP',
    'services, N workers and a round-robin balancer in front of the HTTP services (unless',
    'ALIPAY_NOTIFY_URL is set), each its own `node --import tsx` process (one PID, own metrics',
    `port), detached; PIDs in ${DEFAULT_LAYOUT_DIR}/run, logs in .../logs.`,
    '',
    'Usage: npm run engine-layout -- up [--workers N] [--http M]   (default 2 and 2; idempotent)',
    '       npm run engine-layout -- down                           (stops every layout process)',
    '       npm run engine-layout -- status',
    '',
    `Ports (ENGINE_LAYOUT_PORT_BASE, default ${DEFAULT_PORT_BASE} = B): sandbox B, balancer B+9, HTTP service i B+10+i`,
    '(its admin listener with /readyz and /metrics on B+50+i; Temporal runtime exporter B+20+i),',
    'worker i /metrics B+30+i (runtime exporter B+40+i), i from 0.',
    '',
    `TEMPORAL_ADDRESS defaults to ${DEFAULT_TEMPORAL_ADDRESS} (npm run cluster -- up). Alipay's notifications go`,
    "to ALIPAY_NOTIFY_URL: by default the layout's balancer (B+9, also the merchant API's",
    'address); with your own load balancer, set it to that. Every process gets this environment:',
    ...ENGINE_ENV_HELP.map(([name, text]) => `  ${name.padEnd(width)}  ${text}`),
    '  SANDBOX_*  the sandbox (npm run sandbox -- --help)',
  ].join('\n');
}

function countFlag(args: string[], flag: string, fallback: number): number {
  const i = args.indexOf(flag);
  if (i < 0) return fallback;
  const n = Number(args[i + 1]);
  if (!Number.isInteger(n) || n < 0 || n > 9) throw new Error(`${flag} needs a number from 0 to 9`);
  return n;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const command = args[0];
  if (!command || args.includes('--help') || args.includes('-h')) {
    console.log(help());
    if (!command) process.exitCode = 2;
    return;
  }
  const portBase = Number(process.env.ENGINE_LAYOUT_PORT_BASE ?? DEFAULT_PORT_BASE);
  if (!Number.isInteger(portBase) || portBase < 1024 || portBase > 65000)
    throw new Error('ENGINE_LAYOUT_PORT_BASE: expected a port from 1024 to 65000');
  if (command === 'up') {
    const layout = planLayout({
      workers: countFlag(args, '--workers', 2),
      http: countFlag(args, '--http', 2),
      portBase,
    });
    const pids = await layoutUp(layout);
    for (const p of layout.processes)
      console.log(
        `${p.name.padEnd(9)} PID ${pids.get(p.name)}  ${p.url ?? ''}  metrics ${p.metricsUrl}`,
      );
    console.log(
      `Temporal ${layout.processes[0]?.env.TEMPORAL_ADDRESS}; stop with: npm run engine-layout -- down`,
    );
  } else if (command === 'down') {
    await layoutDown(DEFAULT_LAYOUT_DIR);
    console.log('engine layout stopped');
  } else if (command === 'status') {
    const known = knownProcesses(DEFAULT_LAYOUT_DIR);
    if (known.length === 0) console.log('no engine layout processes');
    for (const p of known) {
      const pid = pidOf(DEFAULT_LAYOUT_DIR, p);
      console.log(`${p.name.padEnd(9)} ${pid ? `PID ${pid}  RSS ${rssMiB(pid)} MiB` : 'down'}`);
    }
  } else {
    throw new Error(`unknown command ${command} (try --help)`);
  }
}

main().catch((err: unknown) => {
  console.error(`engine-layout: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
