/**
 * Notification acknowledgement latency while large QR pictures are being drawn (issue 16).
 *
 * The whole engine in-process on a dev server (as the server tests assemble it). Customers pay at
 * the sandbox, whose own deliveries are switched off: the bench posts each signed notification
 * body to the receiver itself and times the answer `success` (what Alipay waits for). Three
 * phases, same process, same run:
 *
 *   idle           notifications only
 *   worker renders one round of 16 concurrent `GET …/qr.png?size=2048` (distinct sizes: no cache
 *                  hits), drawn in worker threads as the service does now
 *   event loop     the same 16 renders drawn on the main thread (how the service drew them
 *                  before): the baseline the worker threads are measured against
 *
 * Notifications are posted one after another for as long as the renders last. Prints p50 / p95 /
 * max per phase and the ratio of each p95 to idle's. Figures only, never assertions.
 * Usage: npm run bench -- qr-render [--quick]
 */
import os from 'node:os';
import { renderQr } from '../src/server/qr-render-worker';
import { createLocalEnv } from '../test/helpers/temporal';
import { codeBody, startStack, type Stack } from '../test/server/support';

const HELP = `Usage: tsx bench/qr-render.bench.ts [--quick] [--threads N]
Notification ack latency (p50/p95) idle, during 16 concurrent 2048 px QR renders in worker
threads, and during the same renders on the event loop (the old way). --quick: 8 renders.
--threads N: QR render threads (default: the service's default).`;

const CONCURRENT_RENDERS = 16;

const progress = (msg: string) => process.stderr.write(`[qr-render bench] ${msg}\n`);

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(HELP);
    return;
  }
  const renders = process.argv.includes('--quick') ? 8 : CONCURRENT_RENDERS;
  const threadsAt = process.argv.indexOf('--threads');
  const threads = threadsAt > 0 ? process.argv[threadsAt + 1] : undefined;
  const env = await createLocalEnv();
  let stack: Stack | undefined;
  try {
    stack = await startStack({
      temporalAddress: env.address,
      nativeConnection: env.nativeConnection,
      taskQueue: 'bench-qr',
      ...(threads ? { env: { QR_RENDER_THREADS: threads } } : {}),
    });
    progress(
      `QR render threads: ${threads ?? 'default'}; ${os.availableParallelism()} cores, load ${os.loadavg()[0]!.toFixed(1)}`,
    );
    const created = await stack.api('POST', '/v1/codes', codeBody('S-BENCH'));
    if (created.status !== 201) throw new Error(`create: ${created.status}`);
    const qrcode: string = created.json.qrcode;
    // The bench delivers the notifications itself (and times them).
    stack.sandbox.faults.add({ service: 'notification', kind: 'drop', times: 'always' });
    const s = stack;
    const notify = () => ackOnce(s, qrcode);

    progress('warm-up');
    await sample(notify, () => sleep(3000));
    await s.api('GET', '/v1/stores/S-BENCH/codes/no-fee/qr.png?size=64');
    progress('idle');
    const idle = await sample(notify, () => sleep(8000));
    progress(`${renders} renders in worker threads`);
    const viaThreads = await sample(notify, () =>
      Promise.all(
        Array.from({ length: renders }, (_, i) =>
          s.api('GET', `/v1/stores/S-BENCH/codes/no-fee/qr.png?size=${2048 - i}`).then((r) => {
            if (r.status !== 200) throw new Error(`qr.png: ${r.status}`);
          }),
        ),
      ),
    );
    progress(`${renders} renders on the event loop`);
    const onLoop = await sample(notify, () =>
      Promise.all(
        Array.from({ length: renders }, (_, i) =>
          renderQr({ content: qrcode, format: 'png', size: 2048 - i }),
        ),
      ),
    );

    console.log(
      `notification ack latency (ms), notifications posted one after another during each phase; ${renders} concurrent 2048 px renders`,
    );
    console.log('phase                              n     p50     p95     max  phase s  p95/idle');
    for (const [name, f] of [
      ['idle', idle],
      [`${renders} renders, worker threads`, viaThreads],
      [`${renders} renders, event loop (old)`, onLoop],
    ] as const) {
      console.log(
        `${name.padEnd(32)} ${String(f.n).padStart(3)} ${fmt(f.p50)} ${fmt(f.p95)} ${fmt(f.max)} ${(f.phaseMs / 1000).toFixed(1).padStart(8)}  ${(f.p95 / idle.p95).toFixed(2)}x`,
      );
    }
  } finally {
    await stack?.close();
    await env.teardown();
  }
}

interface Figures {
  n: number;
  p50: number;
  p95: number;
  max: number;
  phaseMs: number;
}

/** One payment at the sandbox; its signed notification posted to the receiver, timed. */
async function ackOnce(stack: Stack, qrcode: string): Promise<number> {
  const paid = stack.sandbox.pay({ qrcode, amount: '1.00' });
  const { body } = stack.sandbox.notifications.get(paid.notifyId!)!;
  const started = performance.now();
  const res = await fetch(`${stack.http.url}/alipay/notify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });
  const text = await res.text();
  const ms = performance.now() - started;
  if (text !== 'success') throw new Error(`notification answered ${res.status} ${text}`);
  return ms;
}

/** Posts notifications one after another until `load` settles; their latencies. */
async function sample(
  notify: () => Promise<number>,
  load: () => Promise<unknown>,
): Promise<Figures> {
  const started = performance.now();
  let done = false;
  const loading = load().finally(() => {
    done = true;
  });
  const times: number[] = [];
  try {
    do times.push(await notify());
    while (!done);
  } finally {
    await loading;
  }
  return { ...figures(times), phaseMs: performance.now() - started };
}

function figures(values: number[]): Omit<Figures, 'phaseMs'> {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1]! };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (ms: number) => ms.toFixed(1).padStart(7);

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
