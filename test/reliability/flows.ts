import assert from 'node:assert/strict';
import type { PaidTrade } from '../../src/sandbox';
import type { NotificationFault } from '../../src/sandbox/faults';
import type { PaymentState, PaymentStatus } from '../../src/workflows/payment-types';
import { codeBody } from '../server/support';
import type { ReliabilityStack } from './stack';

/** Shared moves of the scenarios: stores, customers, waiting with bounds. */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The suite's one seed (printed at start; `RELIABILITY_SEED=n` replays a run). */
export const SEED = Number(process.env.RELIABILITY_SEED ?? 20261130);

/** A small deterministic PRNG (mulberry32): the same seed gives the same storm. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(random: () => number, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T;

/** Runs `fn` over `items` with at most `width` at a time. */
export async function pool<T, R>(
  items: readonly T[],
  width: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T, i);
      }
    }),
  );
  return out;
}

/** Creates a store's code through the merchant API; returns the code content. */
export async function createStore(
  stack: ReliabilityStack,
  storeId: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await stack.api('POST', '/v1/codes', codeBody(storeId, extra));
  assert.ok(
    res.status === 201 || res.status === 200,
    `create ${storeId}: ${res.status} ${res.bytes}`,
  );
  return res.json.qrcode as string;
}

/** A customer pays; with `fault`, that one notification's delivery is disturbed. */
export function customerPays(
  stack: ReliabilityStack,
  qrcode: string,
  amount: string,
  fault?: NotificationFault,
): PaidTrade {
  const rule = fault ? stack.sandbox.faults.add({ service: 'notification', ...fault }) : undefined;
  try {
    // The rule is taken synchronously by this payment's notification.
    return stack.sandbox.pay({ qrcode, amount });
  } finally {
    if (rule) stack.sandbox.faults.remove(rule.id);
  }
}

/** Waits (bounded) until every notification was acknowledged or gave up; answers the records. */
export async function notificationsSettle(
  stack: ReliabilityStack,
  notifyIds: string[],
  timeoutMs: number,
) {
  return Promise.all(
    notifyIds.map((id) =>
      stack.sandbox.notifications
        .settled(id, timeoutMs)
        .catch(() => stack.sandbox.notifications.get(id)!),
    ),
  );
}

/**
 * Polls payments (bounded in time, a few at a time) until `done` holds for each; answers the
 * last state seen of each (undefined: no such payment).
 */
export async function paymentsReach(
  stack: ReliabilityStack,
  outTradeNos: string[],
  done: (s: PaymentState, outTradeNo: string) => boolean,
  timeoutMs: number,
): Promise<Map<string, PaymentState | undefined>> {
  const last = new Map<string, PaymentState | undefined>();
  let open = [...outTradeNos];
  const deadline = Date.now() + timeoutMs;
  while (open.length > 0) {
    await pool(open, 6, async (id) => {
      last.set(id, await stack.payment(id).catch(() => undefined));
    });
    open = open.filter((id) => {
      const s = last.get(id);
      return !(s && done(s, id));
    });
    if (open.length === 0 || Date.now() > deadline) break;
    await sleep(500);
  }
  return last;
}

export const REVERSED: readonly PaymentStatus[] = ['CANCELLED', 'REFUNDED'];

/**
 * Sends a money request until its answer is final: 503 means "Temporal did not answer in time,
 * repeat the same request" (README), so it is repeated with the same key, a bounded number of
 * times. Every answer is kept.
 */
/** An API answer as the money scenarios keep it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Answer = { status: number; json: any };

export async function untilFinal(send: () => Promise<Answer>, attempts = 12): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let i = 0; i < attempts; i++) {
    let answer: Answer;
    try {
      answer = await send();
    } catch (err) {
      answer = { status: 0, json: { error: String(err) } }; // connection lost (service restarting)
    }
    answers.push(answer);
    if (answer.status !== 503 && answer.status !== 0) break;
    await sleep(1000 + i * 500);
  }
  return answers;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
