import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { NotificationSignatureError } from '../../src/alipay/errors';
import { parseForm } from '../../src/alipay/form';
import { readNotification } from '../../src/alipay/notification';
import { preSignString } from '../../src/alipay/signing';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { parseJavaGbkTable } from '../../scripts/gbk-table/table-file';
import {
  createCode,
  MD5_KEY,
  md5,
  PARTNER,
  startReceiver,
  waitFor,
  type Received,
} from './support';

const JAVA_GBK = parseJavaGbkTable(
  readFileSync(join(__dirname, '../fixtures/java-gbk.txt'), 'utf8'),
);

/** 1 sandbox ms = 1e-4 real ms: 2 minutes take 12 ms, the whole 25-hour schedule 8.8 s. */
const FAST = 1e-4;

async function notifyVerify(sandbox: Sandbox, notifyId: string): Promise<string> {
  const res = await request(
    `${sandbox.gatewayUrl}?service=notify_verify&partner=${PARTNER}&notify_id=${encodeURIComponent(notifyId)}`,
    { reset: true },
  );
  return res.body.text();
}

const verifies = (r: Received): boolean => {
  try {
    readNotification(r.body, { signer: md5, contentType: r.contentType });
    return true;
  } catch (e) {
    if (e instanceof NotificationSignatureError) return false;
    throw e;
  }
};

describe('sandbox payment notifications', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startSandbox({ timeScale: FAST });
  });
  after(() => sandbox.close());

  it('sends a signed notification, re-sends on the schedule until the answer is exactly "success"', async () => {
    const answers = ['fail', 'SUCCESS', 'success\n', 'success'];
    const rx = await startReceiver((n) => answers[n - 1] ?? 'success');
    try {
      const qrcode = await createCode(sandbox, rx.url, {
        store_id: 'N1',
        passback_parameters: { order: 'A-1' },
      });
      const paid = sandbox.pay({ qrcode, amount: '8.80' });
      const record = await sandbox.notifications.settled(paid.notifyId!, 5000);
      assert.equal(record.state, 'delivered');
      assert.equal(rx.received.length, 4);
      assert.deepEqual(
        record.attempts.map((a) => a.acknowledged),
        [false, false, false, true],
      );
      // Gaps follow 2m, 10m, 10m (scaled): the second and third are clearly longer than the first.
      const at = rx.received.map((r) => r.at);
      assert.ok(
        at[2]! - at[1]! >= 50 && at[3]! - at[2]! >= 50,
        `gaps ${at.map((t) => t - at[0]!).join(',')}`,
      );
      const first = rx.received[0]!;
      assert.ok(
        rx.received.every((r) => r.body.equals(first.body)),
        'every delivery carries the same notify_id and body',
      );
      const notification = readNotification(first.body, {
        signer: md5,
        contentType: first.contentType,
      });
      assert.equal(notification.notifyId, paid.notifyId);
      assert.equal(notification.tradeStatus, 'TRADE_SUCCESS');
      assert.equal(notification.tradeNo, paid.trade.tradeNo);
      assert.equal(notification.outTradeNo, paid.trade.outTradeNo);
      assert.deepEqual(notification.amount, { minor: 880, currency: 'USD' });
      assert.equal(notification.partner, PARTNER);
      assert.equal(notification.qrcode, qrcode);
      assert.equal(notification.storeId, 'N1');
      assert.equal(notification.passbackParameters, '{"order":"A-1"}');
      assert.equal(await notifyVerify(sandbox, paid.notifyId!), 'true');
      assert.equal(await notifyVerify(sandbox, 'a'.repeat(34)), 'false');
    } finally {
      await rx.close();
    }
  });

  it('GBK notifications are encoded and signed as Java does (€ is A2 E3, ♁ is A8 92)', async () => {
    const rx = await startReceiver();
    try {
      const qrcode = await createCode(sandbox, rx.url, {
        store_id: 'NGBK',
        notify_charset: 'GBK',
        passback_parameters: { note: 'Coffee 2.20€ ♁ 顾客' },
      });
      const paid = sandbox.pay({ qrcode, amount: '2.20' });
      await sandbox.notifications.settled(paid.notifyId!, 5000);
      const got = rx.received[0]!;
      assert.match(got.contentType, /charset=GBK/);
      assert.ok(got.body.includes('%A2%E3'), 'the euro sign travels as Java writes it');
      assert.ok(got.body.includes('%A8%92'), '♁ travels as Java writes it');
      const fields = parseForm(got.body, 'GBK');
      assert.equal(fields.passback_parameters, '{"note":"Coffee 2.20€ ♁ 顾客"}');
      // The digest Java computes: MD5 over getBytes("GBK") of pre-sign + key, from Java's table.
      const javaBytes = (text: string) =>
        Buffer.from(
          [...text].flatMap((ch) => {
            const v = JAVA_GBK.encode.get(ch.charCodeAt(0));
            return ch.length === 2 || v === undefined
              ? [0x3f]
              : v < 0x100
                ? [v]
                : [v >> 8, v & 0xff];
          }),
        );
      const digest = createHash('md5')
        .update(javaBytes(preSignString(fields) + MD5_KEY))
        .digest('hex');
      assert.equal(fields.sign, digest);
      const n = readNotification(got.body, { signer: md5, contentType: got.contentType });
      assert.equal(n.passbackParameters, '{"note":"Coffee 2.20€ ♁ 顾客"}');
    } finally {
      await rx.close();
    }
  });

  it('gives up after 8 deliveries when never acknowledged', async () => {
    const quick = await startSandbox({ timeScale: 1e-5 });
    const rx = await startReceiver(() => ({ status: 500, body: 'oops' }));
    try {
      const paid = quick.pay({ qrcode: await createCode(quick, rx.url), amount: '1.00' });
      const record = await quick.notifications.settled(paid.notifyId!, 5000);
      assert.equal(record.state, 'exhausted');
      assert.equal(rx.received.length, 8);
      assert.equal(record.attempts.length, 8);
    } finally {
      await rx.close();
      await quick.close();
    }
  });

  it('counts an unreachable merchant as a failed delivery and retries', async () => {
    const rx = await startReceiver();
    const url = rx.url;
    await rx.close(); // nobody listens there now
    const qrcode = await createCode(sandbox, url, { store_id: 'N2' });
    const paid = sandbox.pay({ qrcode, amount: '1.00' });
    const finished = (): number =>
      sandbox.notifications.get(paid.notifyId!)!.attempts.filter((a) => a.durationMs !== undefined)
        .length;
    await waitFor(() => finished() >= 2, 5000, 'two finished attempts');
    const attempts = sandbox.notifications.get(paid.notifyId!)!.attempts.slice(0, 2);
    assert.ok(attempts.every((a) => a.error !== undefined && !a.acknowledged));
  });

  it('fault drop: a notification that never arrives (notify_id still genuine), or whose first deliveries are lost', async () => {
    const rx = await startReceiver();
    try {
      const qrcode = await createCode(sandbox, rx.url, { store_id: 'N3' });
      sandbox.faults.add({ service: 'notification', kind: 'drop' });
      const lost = sandbox.pay({ qrcode, amount: '1.00' });
      assert.equal((await sandbox.notifications.settled(lost.notifyId!)).state, 'dropped');
      sandbox.faults.add({ service: 'notification', kind: 'drop', attempts: 2 });
      const late = sandbox.pay({ qrcode, amount: '2.00' });
      const record = await sandbox.notifications.settled(late.notifyId!);
      assert.equal(record.state, 'delivered');
      assert.deepEqual(
        record.attempts.map((a) => a.kind),
        ['dropped', 'dropped', 'genuine'],
      );
      assert.equal(rx.received.length, 1);
      assert.equal(rx.received[0]!.fields.notify_id, late.notifyId);
      assert.equal(await notifyVerify(sandbox, lost.notifyId!), 'true');
    } finally {
      await rx.close();
    }
  });

  it('fault duplicate: the same notification twice', async () => {
    const rx = await startReceiver();
    try {
      const qrcode = await createCode(sandbox, rx.url, { store_id: 'N4' });
      sandbox.faults.add({ service: 'notification', kind: 'duplicate' });
      const paid = sandbox.pay({ qrcode, amount: '1.00' });
      await sandbox.notifications.settled(paid.notifyId!);
      await waitFor(() => rx.received.length === 2, 2000, 'two copies');
      assert.ok(rx.received[0]!.body.equals(rx.received[1]!.body));
      assert.ok(rx.received.every(verifies));
    } finally {
      await rx.close();
    }
  });

  it('fault delay and reorder: a later payment is notified first', async () => {
    const rx = await startReceiver();
    try {
      const qrcode = await createCode(sandbox, rx.url, { store_id: 'N5' });
      sandbox.faults.add({ service: 'notification', kind: 'delay', ms: 150 });
      const started = Date.now();
      const delayed = sandbox.pay({ qrcode, amount: '1.00' });
      await sandbox.notifications.settled(delayed.notifyId!);
      assert.ok(rx.received[0]!.at - started >= 140);

      sandbox.faults.add({ service: 'notification', kind: 'reorder' });
      const first = sandbox.pay({ qrcode, amount: '2.00' });
      const second = sandbox.pay({ qrcode, amount: '3.00' });
      await sandbox.notifications.settled(first.notifyId!);
      await sandbox.notifications.settled(second.notifyId!);
      assert.deepEqual(
        rx.received.slice(1).map((r) => r.fields.notify_id),
        [second.notifyId, first.notifyId],
      );
    } finally {
      await rx.close();
    }
  });

  it('a reordered notification is released after its hold time when no other comes', async () => {
    const rx = await startReceiver();
    try {
      const qrcode = await createCode(sandbox, rx.url, { store_id: 'N6' });
      sandbox.faults.add({ service: 'notification', kind: 'reorder', ms: 50 });
      const paid = sandbox.pay({ qrcode, amount: '1.00' });
      assert.equal(sandbox.notifications.get(paid.notifyId!)?.state, 'held');
      assert.equal((await sandbox.notifications.settled(paid.notifyId!)).state, 'delivered');
    } finally {
      await rx.close();
    }
  });

  it('fault forge: a copy with a forged signature and an unknown notify_id arrives first', async () => {
    const rx = await startReceiver((_n, r) => (verifies(r) ? 'success' : 'fail'));
    try {
      const qrcode = await createCode(sandbox, rx.url, { store_id: 'N7' });
      sandbox.faults.add({ service: 'notification', kind: 'forge' });
      const paid = sandbox.pay({ qrcode, amount: '1.00' });
      const record = await sandbox.notifications.settled(paid.notifyId!);
      assert.deepEqual(
        record.attempts.map((a) => [a.kind, a.acknowledged]),
        [
          ['forged', false],
          ['genuine', true],
        ],
      );
      const [forged, genuine] = rx.received;
      assert.equal(verifies(forged!), false);
      assert.equal(verifies(genuine!), true);
      assert.notEqual(forged!.fields.notify_id, paid.notifyId);
      assert.equal(await notifyVerify(sandbox, forged!.fields.notify_id!), 'false');
      assert.equal(await notifyVerify(sandbox, paid.notifyId!), 'true');
    } finally {
      await rx.close();
    }
  });

  it('retryNow sends the next delivery at once', async () => {
    const slow = await startSandbox({ timeScale: 1 });
    let answer = 'fail';
    const rx = await startReceiver(() => answer);
    try {
      const paid = slow.pay({ qrcode: await createCode(slow, rx.url), amount: '1.00' });
      await waitFor(() => rx.received.length === 1, 2000, 'first delivery');
      await waitFor(
        () => slow.notifications.get(paid.notifyId!)?.state === 'scheduled',
        2000,
        'rescheduled',
      );
      answer = 'success';
      assert.equal(slow.notifications.retryNow(paid.notifyId!), true);
      assert.equal((await slow.notifications.settled(paid.notifyId!, 2000)).state, 'delivered');
      assert.equal(slow.notifications.retryNow(paid.notifyId!), false);
    } finally {
      await rx.close();
      await slow.close();
    }
  });

  it('a code without notify_url gets no notification', () => {
    return (async () => {
      const qrcode = await createCode(sandbox, undefined, { store_id: 'N8' });
      const paid = sandbox.pay({ qrcode, amount: '1.00' });
      assert.equal(paid.notifyId, undefined);
    })();
  });
});
