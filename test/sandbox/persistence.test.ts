import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { startSandbox, SandboxError, type Sandbox } from '../../src/sandbox';
import { gatewayFor, storeInput } from './client';
import { spawnSandboxMain, startReceiver, waitFor } from './support';

const usd = (minor: number): { minor: number; currency: string } => ({ minor, currency: 'USD' });

const readJson = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

/** `startSandbox({ stateFile })`: what Alipay remembers survives a restart of the sandbox. */
describe('sandbox state file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-state-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps codes, trades, refunds, ID counters and undelivered notifications across a restart', async (t) => {
    const file = join(dir, 'nested', 'state.json');
    const rx = await startReceiver();
    t.after(() => rx.close());
    // Real-time schedule: the notification whose first delivery is dropped is due again only
    // 2 minutes later, long after this sandbox is gone.
    const first = await startSandbox({ stateFile: file });
    const gwA = gatewayFor(first, { notifyUrl: rx.url });
    let qrcode: string;
    let deleted: string;
    let paid: ReturnType<Sandbox['pay']>;
    let pending: ReturnType<Sandbox['pay']>;
    let refund: Awaited<ReturnType<typeof gwA.refund>>;
    try {
      assert.equal(first.stateFile, file);
      qrcode = (await gwA.createQrCode(storeInput('P1'))).qrcode;
      deleted = (await gwA.createQrCode(storeInput('P2'))).qrcode;
      await gwA.setQrCodeStatus(deleted, 'DELETE');
      paid = first.pay({ qrcode, amount: '10.00' });
      await first.notifications.settled(paid.notifyId!);
      refund = await gwA.refund({
        outTradeNo: paid.trade.outTradeNo,
        refundId: 'P1-R1',
        amount: usd(300),
      });
      first.faults.add({ service: 'notification', kind: 'drop', attempts: 1 });
      first.faults.add({ service: 'QUERY', kind: 'system-error', times: 'always' });
      pending = first.pay({ qrcode, amount: '2.50' });
      await waitFor(
        () => first.notifications.get(pending.notifyId!)?.attempts.length === 1,
        5000,
        'the dropped first delivery',
      );
      assert.equal(first.notifications.get(pending.notifyId!)?.state, 'scheduled');
      assert.equal(first.notifications.get(pending.notifyId!)?.attempts[0]?.kind, 'dropped');
      // The debounced save catches up without close().
      await waitFor(
        () =>
          existsSync(file) &&
          (readJson(file).trades as unknown[]).length === 2 &&
          (readJson(file).notifications as { attempts: unknown[] }[])[1]?.attempts.length === 1,
        5000,
        'the debounced save',
      );
    } finally {
      await gwA.close();
      await first.close();
    }
    assert.ok(!rx.received.some((r) => r.fields.notify_id === pending.notifyId));
    const saved = readJson(file);
    assert.equal(saved.version, 1);
    assert.equal(saved.faults, undefined, 'fault rules are not kept');
    assert.deepEqual(readdirSync(dirname(file)), ['state.json'], 'no temporary file left');

    const second = await startSandbox({ stateFile: file, timeScale: 1e-4 });
    const gwB = gatewayFor(second, { notifyUrl: rx.url });
    try {
      // The new process delivers what the old one still owed.
      const record = await second.notifications.settled(pending.notifyId!, 5000);
      assert.equal(record.state, 'delivered');
      assert.deepEqual(
        record.attempts.map((a) => [a.attempt, a.kind, a.acknowledged]),
        [
          [1, 'dropped', false],
          [2, 'genuine', true],
        ],
      );
      const delivered = rx.received.filter((r) => r.fields.notify_id === pending.notifyId);
      assert.equal(delivered.length, 1);
      assert.equal(delivered[0]!.fields.out_trade_no, pending.trade.outTradeNo);
      // notify_ids of the earlier process still verify; fault rules are gone.
      assert.equal(await gwB.verifyNotifyId(paid.notifyId!), true);
      assert.equal(await gwB.verifyNotifyId(pending.notifyId!), true);
      assert.deepEqual(second.faults.list(), []);

      // The trade and its refund are there.
      const q = await gwB.queryTrade({ outTradeNo: paid.trade.outTradeNo });
      assert.equal(q.status, 'TRADE_SUCCESS');
      assert.equal(q.tradeNo, paid.trade.tradeNo);
      assert.deepEqual(q.amount, usd(1000));
      assert.deepEqual(
        await gwB.refund({
          outTradeNo: paid.trade.outTradeNo,
          refundId: 'P1-R1',
          amount: usd(300),
        }),
        refund,
        'the same partner_refund_id echoes the first refund',
      );
      const view = second.state.findTrade(paid.trade.tradeNo);
      assert.equal(view?.refunded_minor, 300);
      assert.deepEqual(view?.refund_ids, ['P1-R1']);
      assert.deepEqual(view?.notify_ids, [paid.notifyId]);
      assert.equal(second.state.refunds().length, 1);
      await gwB.refund({ outTradeNo: paid.trade.outTradeNo, refundId: 'P1-R2', amount: usd(700) });
      assert.equal(second.state.findTrade(paid.trade.tradeNo)?.trade_status, 'TRADE_CLOSED');

      // The code is known and payable; its store slot is still taken; the DELETED one stays so.
      assert.equal((await gwB.createQrCode(storeInput('P1'))).qrcode, qrcode);
      assert.throws(
        () => second.pay({ qrcode: deleted, amount: '1.00' }),
        (e: unknown) => e instanceof SandboxError && e.code === 'SANDBOX_CODE_NOT_PAYABLE',
      );
      assert.notEqual((await gwB.createQrCode(storeInput('P2'))).qrcode, deleted);
      const again = second.pay({ qrcode, amount: '1.00' });
      const earlierOut = [paid.trade.outTradeNo, pending.trade.outTradeNo];
      const earlierNo = [paid.trade.tradeNo, pending.trade.tradeNo];
      assert.ok(!earlierOut.includes(again.trade.outTradeNo), again.trade.outTradeNo);
      assert.ok(!earlierNo.includes(again.trade.tradeNo), again.trade.tradeNo);
      assert.ok(again.trade.outTradeNo > pending.trade.outTradeNo, 'the sequence went on');
      assert.match(again.trade.outTradeNo, /^\d{19}$/);
      assert.match(again.trade.tradeNo, /^\d{28}$/);
      await second.notifications.settled(again.notifyId!);
    } finally {
      await gwB.close();
      await second.close();
    }
    const final = readJson(file) as { trades: unknown[]; refunds: unknown[]; codes: unknown[] };
    assert.equal(final.trades.length, 3);
    assert.equal(final.refunds.length, 2);
    assert.equal(final.codes.length, 3);
  });

  it('a delivery cut off by close() counts as failed; the next process sends the next one', async (t) => {
    const file = join(dir, 'interrupted.json');
    // The merchant leaves the first POST hanging and acknowledges every later one.
    const hanging: ServerResponse[] = [];
    const bodies: string[] = [];
    const merchant = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('latin1')));
      req.on('end', () => {
        bodies.push(body);
        if (bodies.length === 1) hanging.push(res);
        else res.end('success');
      });
    });
    await new Promise<void>((resolve) => merchant.listen(0, '127.0.0.1', resolve));
    t.after(async () => {
      merchant.closeAllConnections();
      await new Promise<void>((resolve) => merchant.close(() => resolve()));
    });
    const notifyUrl = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}/notify`;
    let notifyId: string;
    const first = await startSandbox({ stateFile: file });
    const gateway = gatewayFor(first, { notifyUrl });
    try {
      const { qrcode } = await gateway.createQrCode(storeInput('I1'));
      notifyId = first.pay({ qrcode, amount: '3.00' }).notifyId!;
      await waitFor(() => hanging.length === 1, 5000, 'the first delivery');
      assert.equal(first.notifications.get(notifyId)?.state, 'delivering');
    } finally {
      await gateway.close();
      await first.close();
    }
    const second = await startSandbox({ stateFile: file, timeScale: 1e-4 });
    try {
      const record = await second.notifications.settled(notifyId, 5000);
      assert.equal(record.state, 'delivered');
      assert.deepEqual(
        record.attempts.map((a) => [a.attempt, a.acknowledged, a.error === undefined]),
        [
          [1, false, false],
          [2, true, true],
        ],
      );
      assert.equal(bodies.length, 2);
      assert.equal(bodies[1], bodies[0], 'the same body and notify_id');
    } finally {
      await second.close();
    }
  });

  it('refuses an unknown version or a broken file with an error naming the file', async () => {
    const file = join(dir, 'future.json');
    writeFileSync(file, JSON.stringify({ version: 2, codes: [] }));
    await assert.rejects(startSandbox({ stateFile: file }), (e: unknown) => {
      assert.ok(e instanceof SandboxError, String(e));
      assert.equal(e.code, 'SANDBOX_BAD_CONFIG');
      assert.ok(e.message.includes(file), e.message);
      assert.match(e.message, /unknown version 2/);
      return true;
    });
    assert.deepEqual(readJson(file), { version: 2, codes: [] }, 'the file is left alone');
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"version":1,');
    await assert.rejects(
      startSandbox({ stateFile: broken }),
      (e: unknown) => e instanceof SandboxError && e.message.includes(broken),
    );
  });

  it('main.ts takes --state-file and saves on SIGTERM', { timeout: 30_000 }, async () => {
    const file = join(dir, 'main.json');
    const { url, output, stop } = await spawnSandboxMain(['--state-file', file]);
    try {
      assert.ok(output().includes(`state in ${file}`), output());
      const sign = await request(`${url}/sandbox/sign`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          params: {
            service: 'alipay.commerce.qrcode.create',
            biz_type: 'OVERSEASHOPQRCODE',
            biz_data: {
              secondary_merchant_id: 'M0001',
              secondary_merchant_name: 'Demo Cafe',
              secondary_merchant_industry: '5812',
              store_id: 'MAIN',
              store_name: 'Demo Cafe Main',
              trans_currency: 'USD',
              currency: 'USD',
            },
          },
        }),
        reset: true,
      });
      const { query } = (await sign.body.json()) as { query: string };
      const created = await request(`${url}/gateway.do?${query}`, { reset: true });
      assert.match(await created.body.text(), /<is_success>T<\/is_success>/);
    } finally {
      assert.equal(await stop(), 0);
    }
    const saved = readJson(file) as { version: number; codes: { data: { storeId: string } }[] };
    assert.equal(saved.version, 1);
    assert.deepEqual(
      saved.codes.map((c) => c.data.storeId),
      ['MAIN'],
    );
  });
});

describe('sandbox IDs without a state file', () => {
  it('two sandboxes started one after the other give different IDs to their first payment', async () => {
    const ids: { outTradeNo: string; tradeNo: string }[] = [];
    for (let i = 0; i < 2; i++) {
      const sandbox = await startSandbox();
      const gateway = gatewayFor(sandbox);
      try {
        const { qrcode } = await gateway.createQrCode(storeInput('U1'));
        const { trade } = sandbox.pay({ qrcode, amount: '1.00' });
        assert.match(trade.outTradeNo, /^\d{19}$/);
        assert.match(trade.tradeNo, /^\d{28}$/);
        ids.push({ outTradeNo: trade.outTradeNo, tradeNo: trade.tradeNo });
      } finally {
        await gateway.close();
        await sandbox.close();
      }
    }
    assert.notEqual(ids[0]!.outTradeNo, ids[1]!.outTradeNo);
    assert.notEqual(ids[0]!.tradeNo, ids[1]!.tradeNo);
    assert.ok(ids[1]!.outTradeNo > ids[0]!.outTradeNo, 'the later sandbox starts higher');
  });
});
