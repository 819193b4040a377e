import assert from 'node:assert/strict';
import { formatMinor } from '../../src/money';
import type { FaultSpec } from '../../src/sandbox/faults';
import { compareLedger, gatewayRefundId } from './ledger';
import {
  createStore,
  customerPays,
  notificationsSettle,
  paymentsReach,
  rng,
  SEED,
  untilFinal,
  type Answer,
} from './flows';
import type { ReliabilityStack } from './stack';
import type { Row } from './tally';

/**
 * Refund races: 50 refund requests at once on one payment: random amounts (together more than
 * was paid), some keys sent twice with the same body, some keys reused with another amount,
 * while Alipay's REFUND answers are lost, fail with SYSTEM_ERROR, hang, say UNKNOWN or are
 * genuinely signed answers of another call.
 */
const PAID_MINOR = 30_000; // 300.00 USD
const DISTINCT = 40;
const REPEATS = 6; // same key, same body
const CONFLICTS = 4; // used key, another amount

/** Positional REFUND faults: which of the next REFUND calls goes wrong, and how. */
const REFUND_FAULTS: FaultSpec[] = [
  { service: 'REFUND', kind: 'lost-answer', skip: 1, times: 2 },
  { service: 'REFUND', kind: 'system-error', skip: 4, times: 2 },
  { service: 'REFUND', kind: 'hang', ms: 3000, skip: 7, times: 1 },
  { service: 'REFUND', kind: 'hang', ms: 3000, apply: true, skip: 9, times: 1 },
  { service: 'REFUND', kind: 'unknown', skip: 11, times: 1 },
  { service: 'REFUND', kind: 'unknown', apply: true, skip: 13, times: 1 },
  // Genuinely signed answers of another call behind this call's echo (never a success).
  { service: 'REFUND', kind: 'foreign-answer', skip: 15, times: 1 },
  { service: 'REFUND', kind: 'foreign-answer', from: 'REFUND', apply: true, skip: 17, times: 1 },
];

/** What the scenario found about keys reused with another amount (asserted on its own, see the test file). */
export const keyReuse: { checked: boolean; problems: string[] } = { checked: false, problems: [] };

export async function refundRaces(stack: ReliabilityStack, row: Row): Promise<void> {
  const random = rng(SEED + 2);
  const qrcode = await createStore(stack, 'S-RACE');
  const paid = customerPays(stack, qrcode, formatMinor(PAID_MINOR, 'USD'));
  await notificationsSettle(stack, [paid.notifyId!], 60_000);
  const outTradeNo = paid.trade.outTradeNo;
  const ready = await paymentsReach(stack, [outTradeNo], (s) => s.status === 'PAID', 60_000);
  assert.equal(ready.get(outTradeNo)?.status, 'PAID');

  const rules = REFUND_FAULTS.map((f) => stack.sandbox.faults.add(f));
  const requests: Array<{ key: string; minor: number; kind: 'first' | 'repeat' | 'conflict' }> = [];
  for (let i = 1; i <= DISTINCT; i++)
    requests.push({
      key: `RACE-${String(i).padStart(2, '0')}`,
      minor: 1 + Math.floor(random() * 2000),
      kind: 'first',
    });
  for (let i = 0; i < REPEATS; i++) requests.push({ ...requests[i]!, kind: 'repeat' });
  for (let i = REPEATS; i < REPEATS + CONFLICTS; i++)
    requests.push({ key: requests[i]!.key, minor: requests[i]!.minor + 1, kind: 'conflict' });

  const send = (r: (typeof requests)[number]) =>
    untilFinal(() =>
      stack.api(
        'POST',
        `/v1/payments/${outTradeNo}/refunds`,
        { amount: formatMinor(r.minor, 'USD'), reason: 'race' },
        { 'idempotency-key': r.key },
      ),
    );
  const answers: Answer[][] = await Promise.all(requests.map(send));
  row.operations += answers.reduce((n, a) => n + a.length, 0);
  const statuses: Record<string, number> = {};
  for (const a of answers.flat()) statuses[a.status] = (statuses[a.status] ?? 0) + 1;

  const problems: string[] = [];
  const finals = answers.map((a) => a.at(-1)!);
  finals.forEach((a, i) => {
    const r = requests[i]!;
    if (![201, 202, 409, 422, 502].includes(a.status))
      problems.push(
        `${r.kind} ${r.key} ${formatMinor(r.minor, 'USD')}: final answer ${a.status} ${JSON.stringify(a.json)}`,
      );
  });
  const server500 = answers
    .flat()
    .filter((a) => a.status >= 500 && a.status !== 502 && a.status !== 503);
  row.serverErrorsOnBadInput += server500.length;

  // A key reused with another amount (issue 11): once one body is taken, the other gets 409.
  const ok = (a: Answer) => a.status === 201 || a.status === 202;
  for (let i = REPEATS; i < REPEATS + CONFLICTS; i++) {
    const pair = [finals[i]!, finals[DISTINCT + REPEATS + (i - REPEATS)]!];
    const [a, b] = pair;
    const what = `key ${requests[i]!.key} reused with another amount: answered ${a!.status} ${a!.json?.amount ?? ''} / ${b!.status} ${b!.json?.amount ?? ''}`;
    if (pair.filter(ok).length === 2) keyReuse.problems.push(`${what}; one of them must be 409`);
    else if (pair.filter(ok).length === 1 && !pair.some((x) => x.status === 409))
      keyReuse.problems.push(`${what}; expected 409`);
  }
  keyReuse.checked = true;
  // A repeated key answers the same refund.
  for (let i = 0; i < REPEATS; i++) {
    const [a, b] = [finals[i]!, finals[DISTINCT + i]!];
    if ((a.status === 201 || a.status === 202) && (b.status === 201 || b.status === 202)) {
      if (a.json.refundId !== b.json.refundId || a.json.amount !== b.json.amount)
        problems.push(`key ${requests[i]!.key} answered two different refunds`);
    }
  }

  // Settle: no entry still PENDING (the REFUND activity retries), bounded.
  const settled = await paymentsReach(
    stack,
    [outTradeNo],
    (s) => s.refunds.every((r) => r.status !== 'PENDING'),
    90_000,
  );
  const state = settled.get(outTradeNo)!;
  const ledger = compareLedger(state, stack.sandbox);
  const keys = state.refunds.filter((r) => !r.reversal).map((r) => r.refundId);
  if (new Set(keys).size !== keys.length)
    problems.push(`a key appears twice in the ledger: ${keys.join(',')}`);
  const gatewayIds = state.refunds.map(gatewayRefundId);
  if (new Set(gatewayIds).size !== gatewayIds.length)
    problems.push('two entries share a partner_refund_id');
  row.overRefunds += ledger.overRefund ? 1 : 0;
  row.doubleRefunds += ledger.doubleRefunds;
  // A SUCCEEDED entry Alipay never executed: an answer of another call taken as this one's.
  row.forgedAccepted += ledger.phantomSuccesses;
  for (const rule of rules) {
    row.faults += rule.fired;
    stack.sandbox.faults.remove(rule.id);
  }
  const trade = stack.sandbox.state.findTrade(outTradeNo)!;
  console.log(
    `refund races: ${requests.length} requests, answers ${JSON.stringify(statuses)}; ` +
      `engine refunded ${state.refunded} (+${formatMinor(state.reservedMinor, 'USD')} reserved, ${ledger.unknown} UNKNOWN) of ${state.paid}, ` +
      `Alipay refunded ${trade.refunded} in ${trade.refund_ids.length} refunds; faults fired ${rules.map((r) => r.fired).join('/')}`,
  );
  if (problems.length + ledger.problems.length > 0) {
    // The evidence: the engine's ledger and timeline next to Alipay's refunds.
    console.log(
      JSON.stringify(
        {
          refunds: state.refunds,
          timeline: state.timeline.slice(-80),
          alipay: stack.sandbox.state.refunds().filter((r) => r['partner_trans_id'] === outTradeNo),
        },
        null,
        1,
      ),
    );
  }
  assert.ok(trade.refunded_minor <= trade.amount_minor, 'Alipay never refunds more than paid');
  assert.ok(state.refundedMinor <= state.paidMinor, 'the engine never refunds more than paid');
  assert.deepEqual(server500, [], 'no 500 answers');
  assert.deepEqual([...problems, ...ledger.problems], []);
}
