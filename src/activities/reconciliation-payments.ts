import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { TransactionRecord } from '../alipay/reconciliation-file';
import { queryLiteral } from '../payment-listing';
import { paymentStateQuery } from '../workflows/messages';
import { paymentWorkflowId, type PaymentState } from '../workflows/payment-types';

/**
 * The engine's side of a reconciliation day, read from Temporal: the state of every payment a
 * file record names, and of every payment that may have moved money that day (visibility).
 */

const DAY_MS = 24 * 60 * 60 * 1000;
const CONCURRENCY = 8;

/** The state query of one payment; undefined when it has no workflow. */
export async function paymentState(
  client: Client,
  partnerId: string,
  outTradeNo: string,
): Promise<PaymentState | undefined> {
  try {
    return await client.workflow
      .getHandle(paymentWorkflowId(partnerId, outTradeNo))
      .query(paymentStateQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

async function workflowIds(client: Client, query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of client.workflow.list({ query })) ids.push(execution.workflowId);
  return ids;
}

/** Runs `fn` over `items`, a few at a time. */
async function inBatches<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

/**
 * Payments by out_trade_no: those the records name (by out_trade_no, or by trade_no for REFUND
 * records), and those visibility lists as possibly active on the day: started from the day
 * before to two days after it, refunded during it, or waiting for an operator.
 */
export async function loadDayPayments(
  client: Client,
  partnerId: string,
  day: { start: number; end: number },
  records: readonly TransactionRecord[],
  heartbeat: () => void,
): Promise<Map<string, PaymentState>> {
  const states = new Map<string, PaymentState>();
  const loaded = new Set<string>();
  const load = async (outTradeNo: string) => {
    if (loaded.has(outTradeNo)) return;
    loaded.add(outTradeNo);
    const state = await paymentState(client, partnerId, outTradeNo);
    if (state) states.set(outTradeNo, state);
    heartbeat();
  };
  const iso = (t: number) => queryLiteral(new Date(t).toISOString());
  const base = `WorkflowType = "PaymentWorkflow" AND AlipayPartnerId = ${queryLiteral(partnerId)}`;
  const window = await workflowIds(
    client,
    `${base} AND ((StartTime >= ${iso(day.start - DAY_MS)} AND StartTime < ${iso(day.end + 2 * DAY_MS)})` +
      ` OR (LastRefundAt >= ${iso(day.start)} AND LastRefundAt < ${iso(day.end)})` +
      ` OR PaymentStatus = "FAILED_NEEDS_OPERATOR")`,
  );
  const prefix = paymentWorkflowId(partnerId, '');
  const named = records.filter((r) => r.type !== 'REFUND').map((r) => r.reference);
  await inBatches(
    [
      ...new Set([
        ...named,
        ...window.filter((id) => id.startsWith(prefix)).map((id) => id.slice(prefix.length)),
      ]),
    ],
    load,
  );
  // Refunds name Alipay's trade_no: find payments not loaded yet by their search attribute.
  const known = new Set([...states.values()].map((s) => s.tradeNo));
  const tradeNos = [
    ...new Set(
      records.filter((r) => r.type === 'REFUND' && !known.has(r.tradeNo)).map((r) => r.tradeNo),
    ),
  ];
  await inBatches(tradeNos, async (tradeNo) => {
    const ids = await workflowIds(client, `${base} AND AlipayTradeNo = ${queryLiteral(tradeNo)}`);
    for (const id of ids) if (id.startsWith(prefix)) await load(id.slice(prefix.length));
  });
  return states;
}
