import assert from 'node:assert/strict';
import type { NotificationFault } from '../../src/sandbox/faults';
import { formatMinor } from '../../src/money';
import {
  createStore,
  customerPays,
  notificationsSettle,
  paymentsReach,
  percentile,
  pick,
  rng,
  SEED,
  sleep,
} from './flows';
import type { ReliabilityStack } from './stack';
import type { Row } from './tally';

/**
 * Storm: many customers at several stores, their notifications duplicated, reordered, delayed
 * and dropped on the first deliveries. Afterwards every trade Alipay took and the engine
 * acknowledged is PAID with Alipay's amount, and nothing Alipay took is left unacknowledged.
 */
export const STORM_PAYMENTS = 200;

const STORES = [
  { storeId: 'S-STORM-1', currency: 'USD' },
  { storeId: 'S-STORM-2', currency: 'USD' },
  { storeId: 'S-STORM-3', currency: 'EUR' },
  { storeId: 'S-STORM-4', currency: 'JPY' }, // exponent 0: "1234" is 1234 yen
] as const;

function faultFor(random: () => number): NotificationFault | undefined {
  const roll = random();
  if (roll < 0.2) return undefined;
  if (roll < 0.38) return { kind: 'duplicate', copies: 2 + Math.floor(random() * 2) };
  if (roll < 0.52) return { kind: 'reorder', ms: 2000 };
  if (roll < 0.66) return { kind: 'delay', ms: 100 + Math.floor(random() * 1400) };
  if (roll < 0.88) return { kind: 'drop', attempts: 1 + Math.floor(random() * 2) };
  return { kind: 'forge' }; // a copy with a forged signature arrives first
}

export async function storm(stack: ReliabilityStack, row: Row): Promise<string[]> {
  const random = rng(SEED);
  const codes = new Map<string, string>();
  for (const s of STORES) {
    codes.set(
      s.storeId,
      await createStore(stack, s.storeId, {
        pricingCurrency: s.currency,
        settlementCurrency: s.currency,
      }),
    );
  }
  const paid: Array<{
    outTradeNo: string;
    notifyId: string;
    amountMinor: number;
    currency: string;
  }> = [];
  const faultKinds: Record<string, number> = {};
  for (let i = 0; i < STORM_PAYMENTS; i++) {
    const store = pick(random, STORES);
    const minor = 1 + Math.floor(random() * (store.currency === 'JPY' ? 50_000 : 99_999));
    const fault = faultFor(random);
    if (fault) {
      row.faults += 1;
      faultKinds[fault.kind] = (faultKinds[fault.kind] ?? 0) + 1;
    }
    const p = customerPays(
      stack,
      codes.get(store.storeId)!,
      formatMinor(minor, store.currency),
      fault,
    );
    row.operations += 1;
    paid.push({
      outTradeNo: p.trade.outTradeNo,
      notifyId: p.notifyId!,
      amountMinor: minor,
      currency: store.currency,
    });
    if (i % 10 === 9) await sleep(400); // about 25 payments a second
  }

  const records = await notificationsSettle(
    stack,
    paid.map((p) => p.notifyId),
    150_000,
  );
  const posts = records.flatMap((r) => r.attempts.filter((a) => a.kind !== 'dropped'));
  const acked = posts.filter((a) => a.acknowledged);
  const statuses: Record<string, number> = {};
  for (const a of posts) {
    const key = a.acknowledged ? 'success' : String(a.status ?? a.error ?? 'no answer');
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  const ackMs = acked.map((a) => a.durationMs ?? 0);
  console.log(
    [
      `storm: ${paid.length} payments at ${STORES.length} stores, faults ${JSON.stringify(faultKinds)}`,
      `  notifications: ${records.filter((r) => r.state === 'delivered').length}/${records.length} acknowledged; ` +
        `${posts.length} POSTs (${records.reduce((n, r) => n + r.attempts.filter((a) => a.kind === 'dropped').length, 0)} dropped by the fault script)`,
      `  answers: ${JSON.stringify(statuses)}`,
      `  time to answer an acknowledged POST: p50 ${percentile(ackMs, 50)} ms, p95 ${percentile(ackMs, 95)} ms, max ${percentile(ackMs, 100)} ms`,
    ].join('\n'),
  );

  // Every trade the engine was told of (acknowledged) must be PAID with Alipay's amount.
  // Forged copies: never acknowledged.
  const forged = records.flatMap((r) => r.attempts.filter((a) => a.kind === 'forged'));
  row.forgedAccepted += forged.filter((a) => a.acknowledged).length;
  assert.ok(forged.length > 0, 'forged copies were sent');
  assert.deepEqual(
    forged.filter((a) => a.acknowledged || a.status !== 403).map((a) => a.status),
    [],
    'every forged copy is refused with 403',
  );

  const told = paid.filter((p, i) => records[i]!.state === 'delivered');
  const states = await paymentsReach(
    stack,
    told.map((p) => p.outTradeNo),
    (s) => s.status === 'PAID',
    120_000,
  );
  const wrong: string[] = [];
  for (const p of told) {
    const s = states.get(p.outTradeNo);
    const trade = stack.sandbox.state.findTrade(p.outTradeNo)!;
    if (
      !s ||
      s.status !== 'PAID' ||
      s.paidMinor !== trade.amount_minor ||
      s.currency !== trade.currency
    ) {
      row.lost += 1;
      wrong.push(
        `${p.outTradeNo}: ${s ? `${s.status} ${s.paid} ${s.currency}` : 'no payment'}, Alipay ${trade.amount} ${trade.currency}`,
      );
    }
  }
  const unacknowledged = records.filter((r) => r.state !== 'delivered');
  row.lost += unacknowledged.length;
  assert.deepEqual(
    unacknowledged.map((r) => `${r.outTradeNo} ${r.state}`),
    [],
    'every notification is acknowledged in the end',
  );
  assert.deepEqual(wrong, [], 'every acknowledged trade is PAID with the amount Alipay took');
  assert.ok(
    statuses['500'] === undefined,
    `the receiver answered 500: ${JSON.stringify(statuses)}`,
  );
  return told.map((p) => p.outTradeNo);
}
