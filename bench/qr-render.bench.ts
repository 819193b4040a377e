/**
 * Notification acknowledgement latency while large QR pictures are being drawn (issue 16).
 *
 * The whole engine in-process on a dev server (as the server tests assemble it): customers pay at
 * the sandbox, which posts Alipay's notification to the receiver and times the answer (what
 * Alipay would see). Three phases, same process, same run:
 *
 *   idle           notifications only
 *   worker renders 16 concurrent `GET …/qr.png?size=2048` in a loop (distinct sizes: no cache
 *                  hits), drawn in worker threads as the service does now
 *   event loop     the same 16 renders drawn on the main thread (how the service drew them
 *                  before): the baseline the worker threads are measured against
 *
 * Prints p50 / p95 / max of the acknowledgement time per phase and the ratios to idle. Figures
 * only, never assertions. Usage: npm run bench -- --only qr-render [--quick]
 */
import { renderQr } from '../src/server/qr-render-worker';
import { createLocalEnv } from '../test/helpers/temporal';
import { codeBody, startStack, type Stack } from '../test/server/support';

const HELP = `Usage: tsx bench/qr-render.bench.ts [--quick]
Notification ack latency (p50/p95) idle, with 16 concurrent 2048 px QR renders in worker threads,
and with the same renders on the event loop (the old way). --quick: fewer notifications.`;

const CONCURRENT_RENDERS = 16;

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(HELP);
    return;
  }
  const perPhase = process.argv.includes('--quick') ? 15 : 40;
  const env = await createLocalEnv();
  let stack: Stack | undefined;
  try {
    stack = await startStack({
      temporalAddress: env.address,
      nativeConnection: env.nativeConnection,
      taskQueue: 'bench-qr',
    });
    const created = await stack.api('POST', '/v1/codes', codeBody('S-BENCH'));
    if (created.status !== 201) throw new Error(`create: ${created.status}`);
    const qrcode: string = created.json.qrcode;
    const s = stack;

    await acks(s, qrcode, 5); // warm-up: worker bundle, JIT, first connections
    const idle = await acks(s, qrcode, perPhase);

    const viaThreads = await underLoad(
      () => acks(s, qrcode, perPhase),
      (i) =>
        s.api('GET', `/v1/stores/S-BENCH/codes/no-fee/qr.png?size=${2048 - i}`).then((r) => {
          if (r.status !== 200) throw new Error(`qr.png: ${r.status}`);
        }),
    );
    const onLoop = await underLoad(
      () => acks(s, qrcode, perPhase),
      (i) => renderQr({ content: qrcode, format: 'png', size: 2048 - i }).then(() => undefined),
    );

    console.log(
      `notification ack latency (ms), ${perPhase} notifications per phase, ${CONCURRENT_RENDERS} concurrent 2048 px renders`,
    );
    const rows: Array<[string, Figures]> = [
      ['idle', idle],
      ['16 renders, worker threads', viaThreads.acks],
      ['16 renders, event loop (old)', onLoop.acks],
    ];
    console.log('phase                            p50     p95     max   renders  p95/idle');
    for (const [name, f] of rows) {
      const renders =
        name === 'idle'
          ? ''
          : String(name.includes('worker') ? viaThreads.renders : onLoop.renders);
      console.log(
        `${name.padEnd(30)} ${fmt(f.p50)} ${fmt(f.p95)} ${fmt(f.max)}   ${renders.padStart(7)}  ${(f.p95 / idle.p95).toFixed(2)}x`,
      );
    }
  } finally {
    await stack?.close();
    await env.teardown();
  }
}

interface Figures {
  p50: number;
  p95: number;
  max: number;
}

/** `count` payments, one after the other; the sandbox's own timing of each acknowledgement. */
async function acks(stack: Stack, qrcode: string, count: number): Promise<Figures> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const paid = stack.sandbox.pay({ qrcode, amount: `${1 + (i % 50)}.00` });
    const record = await stack.sandbox.notifications.settled(paid.notifyId!, 60_000);
    const answered = record.attempts.find((a) => a.acknowledged);
    if (!answered?.durationMs) throw new Error(`notification ${paid.notifyId} not acknowledged`);
    times.push(answered.durationMs);
  }
  return figures(times);
}

/** Runs `measure` while `CONCURRENT_RENDERS` render loops keep going; counts finished renders. */
async function underLoad(
  measure: () => Promise<Figures>,
  render: (i: number) => Promise<void>,
): Promise<{ acks: Figures; renders: number }> {
  let stop = false;
  let renders = 0;
  const loops = Array.from({ length: CONCURRENT_RENDERS }, async (_, i) => {
    let n = 0;
    while (!stop) {
      await render((i * 64 + n++) % 1024); // a new size each time: never a cache hit
      renders++;
    }
  });
  const acksUnderLoad = await measure();
  stop = true;
  await Promise.all(loops);
  return { acks: acksUnderLoad, renders };
}

function figures(values: number[]): Figures {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1]! };
}

const fmt = (ms: number) => ms.toFixed(1).padStart(7);

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
