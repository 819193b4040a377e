import assert from 'node:assert/strict';
import { formatMinor } from '../../src/money';
import type { PaymentState } from '../../src/workflows/payment-types';
import {
  createStore,
  customerPays,
  notificationsSettle,
  paymentsReach,
  REVERSED,
  rng,
  SEED,
  sleep,
} from './flows';
import type { ReliabilityStack } from './stack';
import type { Row } from './tally';

/**
 * Busy store: the till registers counter orders, then 100 customers pay within about a second,
 * 60 of them the amount of an order and 40 a wrong amount. Under the REVERSE policy every wrong
 * amount is reversed at Alipay, and every order is settled by exactly one payment. Ten orders
 * are never paid, so a wrong amount always meets pending orders (never a walk-in), and two
 * orders share an amount (the oldest is settled first, each once).
 */
const STORE = 'S-BUSY';
const PAID_ORDERS = 60;
const UNPAID_ORDERS = 10;
const WRONG = 40;

export async function busyStore(stack: ReliabilityStack, row: Row): Promise<void> {
  const random = rng(SEED + 1);
  const qrcode = await createStore(stack, STORE);
  const base = `/v1/stores/${STORE}/codes/no-fee/expected-payments`;
  // Order amounts end in 0 cents, wrong amounts never do: no wrong amount matches any order.
  const orders = Array.from({ length: PAID_ORDERS + UNPAID_ORDERS }, (_, i) => ({
    orderId: `B-${String(i + 1).padStart(3, '0')}`,
    minor: (1 + Math.floor(random() * 5000)) * 10,
  }));
  orders[1]!.minor = orders[0]!.minor; // two orders, one amount: both settle, oldest first
  for (const o of orders) {
    const res = await stack.api('POST', base, {
      orderId: o.orderId,
      amount: formatMinor(o.minor, 'USD'),
      currency: 'USD',
      ttlSeconds: 3600,
    });
    row.operations += 1;
    assert.equal(res.status, 201, `order ${o.orderId}: ${res.status} ${res.bytes}`);
  }
  const payments = [
    ...orders
      .slice(0, PAID_ORDERS)
      .map((o) => ({ minor: o.minor, orderId: o.orderId as string | undefined })),
    ...Array.from({ length: WRONG }, () => ({
      minor: (1 + Math.floor(random() * 5000)) * 10 + 1 + Math.floor(random() * 9),
      orderId: undefined,
    })),
  ];
  // Shuffle (Fisher-Yates), then 100 payments within about one second.
  for (let i = payments.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [payments[i], payments[j]] = [payments[j]!, payments[i]!];
  }
  const started = Date.now();
  const trades = [];
  for (let i = 0; i < payments.length; i++) {
    const p = payments[i]!;
    const paid = customerPays(stack, qrcode, formatMinor(p.minor, 'USD'));
    row.operations += 1;
    trades.push({ ...p, outTradeNo: paid.trade.outTradeNo, notifyId: paid.notifyId! });
    if (i % 10 === 9) await sleep(90);
  }
  console.log(
    `busy store: ${payments.length} payments in ${Date.now() - started} ms, ${orders.length} orders`,
  );

  const records = await notificationsSettle(
    stack,
    trades.map((t) => t.notifyId),
    120_000,
  );
  const unacknowledged = records.filter((r) => r.state !== 'delivered').map((r) => r.outTradeNo);
  row.lost += unacknowledged.length;
  assert.deepEqual(unacknowledged, [], 'every notification acknowledged');

  const isFinal = (s: PaymentState) => s.status === 'PAID' || REVERSED.includes(s.status);
  const states = await paymentsReach(
    stack,
    trades.map((t) => t.outTradeNo),
    (s) => isFinal(s) && s.admission !== undefined && s.admission.status !== 'PENDING',
    100_000,
  );
  const problems: string[] = [];
  const settledBy = new Map<string, string[]>();
  let reversed = 0;
  for (const t of trades) {
    const s = states.get(t.outTradeNo);
    const trade = stack.sandbox.state.findTrade(t.outTradeNo)!;
    if (!s) {
      row.lost += 1;
      problems.push(`${t.outTradeNo}: no payment`);
      continue;
    }
    const amount = formatMinor(t.minor, 'USD');
    if (t.orderId) {
      const admission = s.admission;
      if (s.status !== 'PAID')
        problems.push(`${amount} for an order: ${s.status} (${s.reversal?.reason ?? ''})`);
      if (admission?.status !== 'MATCHED' || !admission.orderId)
        problems.push(`${amount} for an order: admission ${JSON.stringify(admission)}`);
      else
        settledBy.set(admission.orderId, [
          ...(settledBy.get(admission.orderId) ?? []),
          t.outTradeNo,
        ]);
      if (trade.trade_status !== 'TRADE_SUCCESS')
        problems.push(`${amount}: Alipay ${trade.trade_status}`);
    } else {
      if (s.admission?.status !== 'HELD')
        problems.push(
          `wrong amount ${amount}: admission ${JSON.stringify(s.admission)}, expected HELD`,
        );
      if (!REVERSED.includes(s.status))
        problems.push(`wrong amount ${amount} not reversed: ${s.status}`);
      else reversed += 1;
      // At Alipay the money went back: cancelled, or refunded in full after GMT+8 midnight.
      if (trade.closed_by !== 'CANCEL' && trade.refunded_minor !== trade.amount_minor)
        problems.push(
          `wrong amount ${amount}: Alipay ${trade.trade_status}, refunded ${trade.refunded}`,
        );
    }
  }
  // Every paid order settled exactly once, by a payment of its amount; no other order settled.
  for (const o of orders.slice(0, PAID_ORDERS)) {
    const by = settledBy.get(o.orderId) ?? [];
    if (by.length !== 1) problems.push(`order ${o.orderId} settled ${by.length} times`);
  }
  for (const o of orders.slice(PAID_ORDERS))
    if (settledBy.has(o.orderId)) problems.push(`unpaid order ${o.orderId} settled`);
  const code = await stack.api('GET', `/v1/stores/${STORE}/codes/no-fee`);
  const pending = (code.json.pendingOrders as Array<{ orderId: string }>)
    .map((o) => o.orderId)
    .sort();
  console.log(
    `busy store: ${reversed}/${WRONG} wrong amounts reversed, ${settledBy.size}/${PAID_ORDERS} orders settled, ${pending.length} pending`,
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(
    pending,
    orders.slice(PAID_ORDERS).map((o) => o.orderId),
    'only the never-paid orders are pending',
  );
}
