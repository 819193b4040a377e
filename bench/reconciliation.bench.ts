/**
 * A day with faults, then its reconciliation: N payments on one code (default 200) with 5 % of
 * the payment notifications dropped for good, one refund per delivered payment with 5 % of the
 * refunds forced UNKNOWN (half of them made at Alipay, half not), then the day's files from the
 * sandbox over SFTP and a reconciliation through the merchant API, run twice. Prints what the
 * files recovered, what they settled and which discrepancies remained. Figures, not assertions.
 *
 * Usage: npm run bench -- reconciliation [--payments 200] [--quick]
 */
import { gmt8Date } from '../src/time';
import type { PaymentState } from '../src/workflows/payment-types';
import type { ReconciliationReport } from '../src/workflows/reconciliation-types';
import { createLocalEnv } from '../test/helpers/temporal';
import { codeBody, eventually, startStack } from '../test/server/support';

function argValue(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

async function main(): Promise<void> {
  const total = process.argv.includes('--quick') ? 40 : argValue('--payments', 200);
  const every = 20; // 5 %
  const env = await createLocalEnv();
  const stack = await startStack({
    temporalAddress: env.address,
    nativeConnection: env.nativeConnection,
    taskQueue: 'bench-recon',
    sandbox: { timeScale: 0.001 },
  });
  try {
    const created = await stack.api('POST', '/v1/codes', codeBody('S-BENCH'));
    const qrcode = created.json.qrcode as string;
    const day = gmt8Date(stack.sandbox.clock.now());
    const t0 = performance.now();

    const delivered: string[] = [];
    const dropped: string[] = [];
    const settling: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      if (i % every === every - 1)
        stack.sandbox.faults.add({ service: 'notification', kind: 'drop' });
      const paid = stack.sandbox.pay({ qrcode, amount: `${10 + (i % 50)}.00` });
      if (i % every === every - 1) dropped.push(paid.trade.outTradeNo);
      else {
        delivered.push(paid.trade.outTradeNo);
        settling.push(stack.sandbox.notifications.settled(paid.notifyId!, 120_000));
      }
    }
    await Promise.all(settling);
    const state = async (ot: string) =>
      (await stack.api('GET', `/v1/payments/${ot}`)).json as PaymentState;
    for (const ot of delivered)
      await eventually(
        async () => ((await state(ot)).status === 'PAID' ? true : undefined),
        ot,
        120_000,
      );
    const tPaid = performance.now();

    let unknownMade = 0;
    let unknownNotMade = 0;
    for (const [i, ot] of delivered.entries()) {
      if (i % every === every - 1) {
        const apply = (unknownMade + unknownNotMade) % 2 === 0;
        stack.sandbox.faults.add({ service: 'REFUND', kind: 'fail', error: 'ODD_CODE', apply });
        if (apply) unknownMade++;
        else unknownNotMade++;
      }
      const res = await stack.api(
        'POST',
        `/v1/payments/${ot}/refunds`,
        { amount: '1.00' },
        {
          'Idempotency-Key': `R-${ot}`,
        },
      );
      if (res.status !== 201 && res.status !== 202) throw new Error(`refund ${ot}: ${res.status}`);
    }
    const needOperator = (
      await Promise.all(delivered.map(async (ot) => (await state(ot)).status))
    ).filter((s) => s === 'FAILED_NEEDS_OPERATOR').length;
    const tRefunded = performance.now();

    stack.sandbox.recon.produce(day);
    const run = async () => {
      const started = performance.now();
      const res = await stack.api('POST', `/v1/reconciliation/${day}?wait=true`, {
        graceMinutes: 0,
      });
      return { report: res.json as ReconciliationReport, ms: performance.now() - started };
    };
    const first = await run();
    const second = await run();
    const after = await Promise.all([...delivered, ...dropped].map(state));
    const statusCounts: Record<string, number> = {};
    for (const s of after) statusCounts[s.status] = (statusCounts[s.status] ?? 0) + 1;

    const r = first.report;
    const applied = (kind: string) =>
      r.actions.filter((a) => a.kind === kind && a.result === 'APPLIED');
    console.log(
      [
        `payments: ${total} (${dropped.length} notifications dropped for good), refunds: ${delivered.length} (${unknownMade + unknownNotMade} forced UNKNOWN: ${unknownMade} made at Alipay, ${unknownNotMade} not)`,
        `payments FAILED_NEEDS_OPERATOR before reconciliation: ${needOperator}`,
        `transaction file: ${r.files?.records ?? 0} records; engine payments checked: ${r.paymentsChecked}`,
        `first run (${r.status}, ${first.ms.toFixed(0)} ms): ${Object.entries(r.counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
        `  recovered by the file: ${applied('START_PAYMENT').filter((a) => a.status === 'PAID').length} of ${dropped.length} never-notified payments now PAID`,
        `  settled from the file: ${applied('SETTLE').length} of ${needOperator} payments waiting for an operator`,
        `  discrepancies remaining: ${r.discrepancies.length}${
          r.discrepancies.length
            ? ` (${Object.entries(r.discrepancyCounts)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ')})`
            : ''
        }`,
        ...r.discrepancies.slice(0, 10).map((d) => `    ${d.kind}: ${d.detail}`),
        `second run (${second.report.status}, ${second.ms.toFixed(0)} ms): ${second.report.actions.length} actions, ${second.report.discrepancies.length} discrepancies, ${Object.entries(
          second.report.counts,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
        `payments after: ${Object.entries(statusCounts)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
        `time: payments ${((tPaid - t0) / 1000).toFixed(1)} s, refunds ${((tRefunded - tPaid) / 1000).toFixed(1)} s, reconciliation ${(first.ms / 1000).toFixed(1)} s (vs ${(second.ms / 1000).toFixed(1)} s for the idle second run)`,
      ].join('\n'),
    );
  } finally {
    await stack.close();
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
