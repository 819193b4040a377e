import type { Client } from '@temporalio/client';
import { BARE_TASK_QUEUE, type Cluster, type PreparedTrade } from './cluster';
import { sleep } from './load';
import { medianOfRounds, round3, type RoundSummary } from './stats';
import type { TradePool } from './trades';

/**
 * The two sides of each comparison: the engine (a real notification POSTed to its receiver)
 * and the bare baseline (a signal-with-start of BarePaymentWorkflow on the same server).
 */
export class Sides {
  #bareSeq = 0;

  constructor(
    readonly cluster: Cluster,
    readonly pool: TradePool,
    /** The bare side's signal payload: a parsed notification, the size of the engine's. */
    readonly sample: Record<string, string>,
  ) {}

  static async create(cluster: Cluster, pool: TradePool): Promise<Sides> {
    await pool.fill(1);
    const t = pool.take() as PreparedTrade;
    return new Sides(
      cluster,
      pool,
      Object.fromEntries(new URLSearchParams(t.body.toString('latin1'))),
    );
  }

  get client(): Client {
    return this.cluster.client;
  }

  /** POSTs the next prepared notification; false when the pool is empty. */
  async engineNotify(ids: string[]): Promise<string | undefined> {
    const trade = this.pool.take();
    if (!trade) return undefined;
    const id = this.cluster.paymentWorkflowId(trade.outTradeNo);
    await this.cluster.notify(trade);
    ids.push(id);
    return id;
  }

  async bareSignalWithStart(ids: string[], prefix = 'bare'): Promise<string> {
    const workflowId = `${prefix}/${process.pid}/${this.#bareSeq++}`;
    await this.client.workflow.signalWithStart('BarePaymentWorkflow', {
      taskQueue: BARE_TASK_QUEUE,
      workflowId,
      signal: 'notified',
      signalArgs: [this.sample],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    ids.push(workflowId);
    return workflowId;
  }

  /**
   * Polls `describe` (a server read: no worker task, the same cost on both sides) until the
   * workflow's PaymentStatus is one of `wanted`; backs off 20 ms -> 100 ms. Throws on any other
   * settled status or after `timeoutMs`.
   */
  async waitForStatus(workflowId: string, wanted: string, timeoutMs = 60_000): Promise<void> {
    const handle = this.client.workflow.getHandle(workflowId);
    const deadline = Date.now() + timeoutMs;
    let delay = 20;
    for (;;) {
      await sleep(delay);
      const d = await handle.describe();
      const status = (d.searchAttributes.PaymentStatus as string[] | undefined)?.[0];
      if (status === wanted) return;
      if (status && !['AWAITING_NOTIFICATION', 'CONFIRMING', 'WAITING'].includes(status))
        throw new Error(`${workflowId} became ${status}, not ${wanted}`);
      if (Date.now() > deadline)
        throw new Error(`${workflowId} not ${wanted} after ${timeoutMs} ms`);
      delay = Math.min(100, delay * 1.25);
    }
  }
}

/**
 * When `workflowId` reached `status` by its history: the event time of the search-attribute
 * upsert that set it (recorded when the workflow task that made the change completed).
 */
export async function statusReachedAt(
  client: Client,
  workflowId: string,
  status: string,
): Promise<number | undefined> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  for (const e of history.events ?? []) {
    const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    const data = fields?.PaymentStatus?.data;
    if (data && Buffer.from(data).toString('utf8').includes(`"${status}"`)) {
      const t = e.eventTime;
      return Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
    }
  }
  return undefined;
}

export function roundAll(s: RoundSummary) {
  return {
    perSecond: round3(s.perSecond),
    p50: round3(s.p50),
    p95: round3(s.p95),
    p99: round3(s.p99),
    completed: s.completed,
    failed: s.failed,
  };
}

/** One level's engine-vs-bare record: the medians of the rounds, their ratios, every round. */
export function compareRounds(engine: RoundSummary[], bare: RoundSummary[]) {
  const em = medianOfRounds(engine);
  const bm = medianOfRounds(bare);
  return {
    engine: roundAll(em),
    bare: roundAll(bm),
    ratio: {
      throughput: round3(em.perSecond / bm.perSecond),
      p50: round3(em.p50 / bm.p50),
      p95: round3(em.p95 / bm.p95),
    },
    rounds: { engine: engine.map(roundAll), bare: bare.map(roundAll) },
  };
}

/** Logs the first few failures of a side (each failure is counted in the round anyway). */
export function logFirst(side: string): (err: unknown) => void {
  let shown = 0;
  return (err) => {
    if (shown++ < 3)
      console.error(`  ${side}: ${err instanceof Error ? err.message : String(err)}`);
  };
}

/** What one workflow cost Temporal: history events, workflow tasks, activities, signals sent. */
export async function historyCost(client: Client, workflowId: string) {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const count = (pred: (e: (typeof events)[number]) => unknown) => events.filter(pred).length;
  return {
    events: events.length,
    workflowTasks: count((e) => e.workflowTaskCompletedEventAttributes),
    activities: count((e) => e.activityTaskScheduledEventAttributes),
    signalsReceived: count((e) => e.workflowExecutionSignaledEventAttributes),
    signalsSent: count((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes),
    timers: count((e) => e.timerStartedEventAttributes),
  };
}
