import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PaymentState } from '../../src/workflows/payment-types';
import type { QrCodeState } from '../../src/workflows/qrcode-types';
import { createLocalEnv } from '../helpers/temporal';
import { codeBody, eventually, startStack, type Stack } from './support';

// Notification ingest under load, on a real dev server: the receiver makes one Temporal call per
// notification, and each payment asks its store's code itself, durably. Counter orders must be
// settled exactly once, wrong amounts reversed, whatever the load or the worker's absence.
let env: TestWorkflowEnvironment;
let stack: Stack;

before(async () => {
  env = await createLocalEnv();
  stack = await startStack({
    temporalAddress: env.address,
    nativeConnection: env.nativeConnection,
    taskQueue: 'engine-ingest',
    sandbox: { timeScale: 1e-3 },
  });
});

after(async () => {
  await stack?.close();
  await env?.teardown();
});

const FINAL_OR_PAID = ['PAID', 'CANCELLED', 'REFUNDED', 'FAILED_NEEDS_OPERATOR', 'CLOSED'];

async function createCode(store: string): Promise<{ qrcode: string; orders: string }> {
  const created = await stack.api('POST', '/v1/codes', codeBody(store));
  assert.equal(created.status, 201, JSON.stringify(created.json));
  return {
    qrcode: created.json.qrcode as string,
    orders: `/v1/stores/${store}/codes/no-fee/expected-payments`,
  };
}

/** Registers counter orders, a few at a time (a code takes 10 Updates in flight). */
async function expectOrders(path: string, orders: Array<{ orderId: string; amount: string }>) {
  for (let i = 0; i < orders.length; i += 5) {
    await Promise.all(
      orders.slice(i, i + 5).map(async (o) => {
        const res = await stack.api('POST', path, { ...o, currency: 'USD', ttlSeconds: 3600 });
        assert.equal(res.status, 201, JSON.stringify(res.json));
      }),
    );
  }
}

async function paymentState(outTradeNo: string): Promise<PaymentState | undefined> {
  const res = await stack.api('GET', `/v1/payments/${outTradeNo}`);
  return res.status === 200 ? (res.json as PaymentState) : undefined;
}

async function allSettled(outTradeNos: string[], timeoutMs = 120_000): Promise<PaymentState[]> {
  return eventually(
    async () => {
      const states = await Promise.all(outTradeNos.map(paymentState));
      const done = states.every(
        (s) => s && FINAL_OR_PAID.includes(s.status) && s.admission?.status !== 'PENDING',
      );
      return done ? (states as PaymentState[]) : undefined;
    },
    `${outTradeNos.length} payments settled`,
    timeoutMs,
  );
}

async function codeState(store: string): Promise<QrCodeState> {
  const res = await stack.api('GET', `/v1/stores/${store}/codes/no-fee`);
  assert.equal(res.status, 200);
  return res.json as QrCodeState;
}

/**
 * The outcome the merchant must see: each order settled by exactly one payment of its amount,
 * every wrong amount reversed, nothing left pending.
 */
function assertOrdersSettledOnce(right: PaymentState[], wrong: PaymentState[], orderIds: string[]) {
  for (const p of right) {
    assert.equal(p.status, 'PAID', `${p.outTradeNo}: ${JSON.stringify(p.admission)}`);
    assert.equal(p.admission?.status, 'MATCHED', p.outTradeNo);
  }
  const settledBy = right.map((p) => p.admission?.orderId).sort();
  assert.deepEqual(settledBy, [...orderIds].sort(), 'each order settled by exactly one payment');
  for (const p of wrong) {
    assert.ok(['CANCELLED', 'REFUNDED'].includes(p.status), `${p.outTradeNo} is ${p.status}`);
    assert.equal(p.admission?.status, 'HELD', p.outTradeNo);
    assert.match(p.reversal?.reason ?? '', /expected .* for order/);
  }
}

describe('notification ingest', () => {
  it('100 notifications within a second at one store: 50 settle 50 orders, 50 wrong amounts are reversed', async () => {
    const { qrcode, orders } = await createCode('S-BUSY');
    const wanted = Array.from({ length: 50 }, (_, i) => ({
      orderId: `B-${i}`,
      amount: `1.${String(i + 10).padStart(2, '0')}`,
    }));
    await expectOrders(orders, wanted);

    const started = Date.now();
    const paid = wanted.flatMap((o, i) => [
      stack.sandbox.pay({ qrcode, amount: o.amount }),
      stack.sandbox.pay({ qrcode, amount: `2.${String(i + 10).padStart(2, '0')}` }),
    ]);
    assert.ok(Date.now() - started < 1000, 'all 100 paid within a second');
    const records = await Promise.all(
      paid.map((p) => stack.sandbox.notifications.settled(p.notifyId!, 60_000)),
    );
    // Every notification was taken by Temporal on its first delivery.
    for (const record of records) {
      const first = record.attempts.find((a) => a.kind === 'genuine');
      assert.deepEqual([first?.status, first?.response], [200, 'success'], record.notifyId);
    }

    const states = await allSettled(paid.map((p) => p.trade.outTradeNo));
    const right = states.filter((_, i) => i % 2 === 0);
    const wrong = states.filter((_, i) => i % 2 === 1);
    assertOrdersSettledOnce(
      right,
      wrong,
      wanted.map((o) => o.orderId),
    );
    assert.deepEqual((await codeState('S-BUSY')).pendingOrders, [], 'no order left pending');
    console.log(
      `ingest: 100 notifications in ${Date.now() - started} ms until all settled; ` +
        `${right.length} orders settled once, ${wrong.length} wrong amounts reversed`,
    );
  });

  it('worker away for 30 s while 20 notifications arrive: the check waits, nothing is skipped', async () => {
    const { qrcode, orders } = await createCode('S-DEPLOY');
    const wanted = Array.from({ length: 10 }, (_, i) => ({
      orderId: `D-${i}`,
      amount: `3.${String(i + 10).padStart(2, '0')}`,
    }));
    await expectOrders(orders, wanted);

    await stack.stopWorker();
    const paid = wanted.flatMap((o, i) => [
      stack.sandbox.pay({ qrcode, amount: o.amount }),
      stack.sandbox.pay({ qrcode, amount: `4.${String(i + 10).padStart(2, '0')}` }),
    ]);
    const records = await Promise.all(
      paid.map((p) => stack.sandbox.notifications.settled(p.notifyId!, 30_000)),
    );
    for (const record of records) {
      const first = record.attempts.find((a) => a.kind === 'genuine');
      assert.equal(first?.response, 'success', 'acknowledged without a worker');
    }
    await new Promise((r) => setTimeout(r, 30_000));
    await stack.restartWorker();

    const states = await allSettled(paid.map((p) => p.trade.outTradeNo));
    assertOrdersSettledOnce(
      states.filter((_, i) => i % 2 === 0),
      states.filter((_, i) => i % 2 === 1),
      wanted.map((o) => o.orderId),
    );
    assert.deepEqual((await codeState('S-DEPLOY')).pendingOrders, []);
  });

  it('a notification re-delivered after a new order of its amount never settles that order', async () => {
    const { qrcode, orders } = await createCode('S-LATE');
    // One payment reversed (finished workflow), one settling an order, then a walk-in once no
    // order is pending (PAID, its workflow still open for refunds).
    await expectOrders(orders, [{ orderId: 'L-0', amount: '5.00' }]);
    const reversedPay = stack.sandbox.pay({ qrcode, amount: '6.00' });
    const matchedPay = stack.sandbox.pay({ qrcode, amount: '5.00' });
    const settledNotification = async (p: typeof reversedPay) =>
      (await stack.sandbox.notifications.settled(p.notifyId!, 30_000)).body;
    const bodies = [await settledNotification(reversedPay), await settledNotification(matchedPay)];
    const [reversed, matched] = await allSettled(
      [reversedPay, matchedPay].map((p) => p.trade.outTradeNo),
    );
    assert.equal(reversed!.admission?.status, 'HELD');
    assert.equal(matched!.admission?.status, 'MATCHED');
    await new Promise((r) => setTimeout(r, 1100)); // Alipay's payment times have whole seconds
    const walkIn = stack.sandbox.pay({ qrcode, amount: '7.00' });
    bodies.push(await settledNotification(walkIn));
    const [open] = await allSettled([walkIn.trade.outTradeNo]);
    assert.equal(open!.admission?.status, 'WALK_IN');
    assert.equal(open!.status, 'PAID');

    // The till now expects the same amounts again; Alipay re-sends the old notifications.
    await expectOrders(orders, [
      { orderId: 'L-1', amount: '6.00' },
      { orderId: 'L-2', amount: '7.00' },
    ]);
    for (const body of bodies) {
      const res = await fetch(`${stack.http.url}/alipay/notify`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body,
      });
      assert.equal(await res.text(), 'success');
    }
    // The open payment saw the repeat (its state is the proof the signal was handled).
    await eventually(
      async () =>
        ((await paymentState(walkIn.trade.outTradeNo))?.notificationRepeats ?? 0) > 0
          ? true
          : undefined,
      'the repeat reached the open payment',
    );
    // (expectOrders registers them at once: their order among themselves is not fixed)
    assert.deepEqual(
      (await codeState('S-LATE')).pendingOrders.map((o) => o.orderId).sort(),
      ['L-1', 'L-2'],
      'both orders still pending',
    );
  });
});
