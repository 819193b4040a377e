/**
 * One payment's path through Temporal, event by event with times relative to the notification's
 * POST, beside the store code's events for it: where notification -> PAID spends its time.
 *
 * Run: npx tsx bench/timeline.ts [--payments 5]
 */
import { temporal } from '@temporalio/proto';
import { Cluster, PARTNER } from './lib/cluster';
import { parseFlags } from './lib/report';
import { Sides } from './lib/sides';
import { TradePool } from './lib/trades';

const USAGE = `Usage: npx tsx bench/timeline.ts [--payments N]
  --payments  payments sent one after another; the last one's timeline is printed (default 5)`;

const EventType = temporal.api.enums.v1.EventType;

function ms(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
}

async function main(): Promise<void> {
  const flags = parseFlags(USAGE, { payments: '5' });
  const cluster = await Cluster.start({ name: 'timeline' });
  try {
    const qrcode = await cluster.createStore('TIMELINE');
    const pool = new TradePool(cluster, [qrcode]);
    const sides = await Sides.create(cluster, pool);
    await pool.fill(Number(flags.payments));
    let last = '';
    let t0 = 0;
    for (let i = 0; i < Number(flags.payments); i++) {
      t0 = Date.now();
      const id = await sides.engineNotify([]);
      if (!id) throw new Error('no trade');
      await sides.waitForStatus(id, 'PAID');
      last = id;
    }
    const rows: [number, string, string][] = [];
    const add = async (workflowId: string, who: string, from?: number) => {
      const h = await cluster.client.workflow.getHandle(workflowId).fetchHistory();
      for (const e of h.events ?? []) {
        const at = ms(e.eventTime);
        if (from !== undefined && at < from - 5) continue;
        const name = EventType[e.eventType ?? 0]?.replace('EVENT_TYPE_', '') ?? '?';
        const extra =
          e.activityTaskScheduledEventAttributes?.activityType?.name ??
          e.workflowExecutionSignaledEventAttributes?.signalName ??
          e.markerRecordedEventAttributes?.markerName ??
          '';
        rows.push([at - t0, who, `${name} ${extra}`.trim()]);
      }
    };
    await add(last, 'payment');
    await add(`qrcode/${PARTNER}/TIMELINE/no-fee`, 'code', t0);
    rows.sort((a, b) => a[0] - b[0]);
    console.log(`timeline of ${last} (ms after the notification's POST began)`);
    for (const [at, who, what] of rows)
      console.log(`${at.toFixed(1).padStart(8)}  ${who.padEnd(8)} ${what}`);
  } finally {
    await cluster.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
