import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  AlipayBusinessError,
  AlipayGatewayError,
  NotificationSignatureError,
  type AlipayGateway,
} from '../../src/alipay';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { gatewayFor, storeInput } from './client';
import { startReceiver } from './support';

const usd = (minor: number): { minor: number; currency: string } => ({ minor, currency: 'USD' });

/** The engine's `AlipayGateway` against the sandbox: every service, end to end, real signatures. */
describe('AlipayGateway against the sandbox: services', () => {
  let sandbox: Sandbox;
  let gateway: AlipayGateway;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    sandbox = await startSandbox({ timeScale: 1e-4, clock: { start: '2024-01-01 12:00:00' } });
    rx = await startReceiver();
    gateway = gatewayFor(sandbox, { notifyUrl: rx.url });
  });
  after(async () => {
    await gateway.close();
    await rx.close();
    await sandbox.close();
  });

  it('CREATE (get-or-create), MODIFY, MODIFYSTATUS', async () => {
    const created = await gateway.createQrCode(storeInput('G1'));
    assert.match(created.qrcode, /^https:\/\/qr\.alipay\.com\//);
    assert.match(created.imageUrl ?? '', /picSize=L/);
    assert.equal((await gateway.createQrCode(storeInput('G1'))).qrcode, created.qrcode);
    const fee = await gateway.createQrCode(
      storeInput('G1', { channelFee: { type: 'RATE', rate: '0.02' } }),
    );
    assert.notEqual(fee.qrcode, created.qrcode);
    const modified = await gateway.modifyQrCode(
      created.qrcode,
      storeInput('G1', { storeName: 'New name' }),
    );
    assert.equal(modified.qrcode, created.qrcode);
    assert.equal(
      sandbox.state.codes().find((c) => c.qrcode === created.qrcode)?.store_name,
      'New name',
    );
    assert.deepEqual(await gateway.setQrCodeStatus(created.qrcode, 'STOP'), {
      qrcode: created.qrcode,
      status: 'STOP',
    });
    await gateway.setQrCodeStatus(created.qrcode, 'RESTART');
    await gateway.setQrCodeStatus(created.qrcode, 'DELETE');
    await assert.rejects(gateway.setQrCodeStatus(created.qrcode, 'RESTART'), (e: unknown) => {
      assert.ok(e instanceof AlipayBusinessError, String(e));
      assert.equal(e.retryable, false);
      assert.equal(e.alipayCode, 'ILLEGAL_ARGUMENT');
      return true;
    });
  });

  it('payment notification: verified by the client, notify_verify true; QUERY agrees', async () => {
    const { qrcode } = await gateway.createQrCode(storeInput('G2'));
    const paid = sandbox.pay({ qrcode, amount: '8.80' });
    await sandbox.notifications.settled(paid.notifyId!);
    const received = rx.received.find((r) => r.fields.notify_id === paid.notifyId)!;
    const n = gateway.readNotification(received.body, received.contentType);
    assert.equal(n.tradeStatus, 'TRADE_SUCCESS');
    assert.deepEqual(n.amount, usd(880));
    assert.equal(await gateway.verifyNotifyId(n.notifyId), true);
    assert.equal(await gateway.verifyNotifyId('f'.repeat(34)), false);
    const q = await gateway.queryTrade({ outTradeNo: n.outTradeNo!, tradeNo: n.tradeNo });
    assert.equal(q.status, 'TRADE_SUCCESS');
    assert.deepEqual(q.amount, usd(880));
    assert.equal(q.tradeNo, paid.trade.tradeNo);
    assert.equal(
      q.paidAt,
      Math.floor(paid.trade.paidAt! / 1000) * 1000,
      'alipay_pay_time, to the second',
    );
    await assert.rejects(
      gateway.queryTrade({ outTradeNo: 'NOPE' }),
      (e: unknown) => e instanceof AlipayBusinessError && e.alipayCode === 'TRADE_NOT_EXIST',
    );
  });

  it('REFUND: partial, idempotent per refundId, over-refund and reused ID refused', async () => {
    const { qrcode } = await gateway.createQrCode(storeInput('G3'));
    const { trade } = sandbox.pay({ qrcode, amount: '10.00' });
    const ref = { outTradeNo: trade.outTradeNo };
    const first = await gateway.refund({
      ...ref,
      refundId: 'G3-R1',
      amount: usd(300),
      reason: '顾客退货',
    });
    assert.deepEqual(first.amount, usd(300));
    assert.equal(first.refundId, 'G3-R1');
    assert.deepEqual(
      await gateway.refund({ ...ref, refundId: 'G3-R1', amount: usd(300), reason: '顾客退货' }),
      first,
    );
    assert.equal(sandbox.state.findTrade(trade.tradeNo)?.refunded_minor, 300);
    await assert.rejects(
      gateway.refund({ ...ref, refundId: 'G3-R2', amount: usd(701) }),
      (e: unknown) => {
        assert.ok(e instanceof AlipayBusinessError);
        assert.equal(e.alipayCode, 'REQUEST_AMOUNT_EXCEED');
        assert.equal(e.retryable, false);
        return true;
      },
    );
    await assert.rejects(
      gateway.refund({ ...ref, refundId: 'G3-R1', amount: usd(400) }),
      (e: unknown) =>
        e instanceof AlipayBusinessError && e.alipayCode === 'REPEATED_REFUNDMENT_REQUEST',
    );
    await gateway.refund({ ...ref, refundId: 'G3-R3', amount: usd(700) });
    assert.equal((await gateway.queryTrade(ref)).status, 'TRADE_CLOSED');
  });

  it('CANCEL: same GMT+8 day reverses; after midnight refused for good; unpaid trades close', async () => {
    const { qrcode } = await gateway.createQrCode(storeInput('G4'));
    sandbox.clock.set('2024-01-01 23:58:00');
    const a = sandbox.pay({ qrcode, amount: '5.00' }).trade;
    const b = sandbox.pay({ qrcode, amount: '6.00' }).trade;
    const cancelled = await gateway.cancelTrade({ outTradeNo: a.outTradeNo });
    assert.deepEqual(cancelled, { action: 'refund', outTradeNo: a.outTradeNo, tradeNo: a.tradeNo });
    sandbox.clock.set('2024-01-02 00:00:01');
    await assert.rejects(gateway.cancelTrade({ outTradeNo: b.outTradeNo }), (e: unknown) => {
      assert.ok(e instanceof AlipayBusinessError, String(e));
      assert.equal(e.retryable, false);
      assert.equal(e.alipayCode, 'TRADE_STATUS_ERROR');
      assert.equal(e.alipayDetail, 'CANCEL_TIME_EXPIRED');
      return true;
    });
    assert.deepEqual(
      (await gateway.refund({ outTradeNo: b.outTradeNo, refundId: 'G4-R1', amount: usd(600) }))
        .amount,
      usd(600),
    );
    const unpaid = sandbox.pay({ qrcode, amount: '1.00', unpaid: true }).trade;
    assert.equal((await gateway.cancelTrade({ outTradeNo: unpaid.outTradeNo })).action, 'close');
  });

  it('REFUND after the refund period is refused', async () => {
    const own = await startSandbox({ refundPeriodMs: 60_000 });
    const client = gatewayFor(own);
    try {
      const { qrcode } = await client.createQrCode(storeInput('G5'));
      const { trade } = own.pay({ qrcode, amount: '2.00' });
      own.clock.advance(61_000);
      assert.equal(
        (await client.queryTrade({ outTradeNo: trade.outTradeNo })).status,
        'TRADE_FINISHED',
      );
      await assert.rejects(
        client.refund({ outTradeNo: trade.outTradeNo, refundId: 'G5-R1', amount: usd(100) }),
        (e: unknown) =>
          e instanceof AlipayBusinessError && e.alipayCode === 'REFUNDMENT_VALID_DATE_EXCEED',
      );
    } finally {
      await client.close();
      await own.close();
    }
  });

  it('gateway-level refusals: wrong key, unknown partner, stale timestamp', async () => {
    const wrongKey = gatewayFor(sandbox, { md5Key: 'zz1x9sdm2qv8t0rbz7yh3c5lw4jf6pe0' });
    const otherPartner = gatewayFor(sandbox, { partner: '2088000000000001' });
    const stale = gatewayFor(sandbox, {}, () => sandbox.clock.now() - 31 * 60_000);
    try {
      const code = (e: unknown): string | undefined =>
        e instanceof AlipayGatewayError ? e.alipayCode : `not a gateway error: ${String(e)}`;
      await assert.rejects(
        wrongKey.queryTrade({ outTradeNo: 'X' }),
        (e: unknown) => code(e) === 'ILLEGAL_SIGN',
      );
      await assert.rejects(
        otherPartner.queryTrade({ outTradeNo: 'X' }),
        (e: unknown) => code(e) === 'ILLEGAL_PARTNER',
      );
      await assert.rejects(
        stale.createQrCode(storeInput('G6')),
        (e: unknown) => code(e) === 'SESSION_TIMEOUT',
      );
    } finally {
      await Promise.all([wrongKey.close(), otherPartner.close(), stale.close()]);
    }
  });

  it('a forged notification fails the client signature check', async () => {
    const { qrcode } = await gateway.createQrCode(storeInput('G7'));
    sandbox.faults.add({ service: 'notification', kind: 'forge' });
    const paid = sandbox.pay({ qrcode, amount: '1.00' });
    await sandbox.notifications.settled(paid.notifyId!);
    const forged = rx.received.find(
      (r) => r.fields.trade_no === paid.trade.tradeNo && r.fields.notify_id !== paid.notifyId,
    )!;
    assert.throws(
      () => gateway.readNotification(forged.body, forged.contentType),
      NotificationSignatureError,
    );
    assert.equal(await gateway.verifyNotifyId(forged.fields.notify_id!), false);
  });
});

describe('AlipayGateway against the sandbox: RSA2', () => {
  it('signs requests with the merchant key and verifies answers and notifications with Alipay’s', async () => {
    const alipay = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const partner = '2088202233347352';
    const sandbox = await startSandbox({
      timeScale: 1e-4,
      partners: [
        { partner, alipayPrivateKey: alipay.privateKey, merchantPublicKey: merchant.publicKey },
      ],
    });
    const rx = await startReceiver();
    const gateway = gatewayFor(sandbox, {
      partner,
      signType: 'RSA2',
      md5Key: undefined,
      privateKey: merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      alipayPublicKey: alipay.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      notifyUrl: rx.url,
    });
    try {
      const { qrcode } = await gateway.createQrCode(storeInput('R1'));
      const paid = sandbox.pay({ qrcode, amount: '3.00' });
      await sandbox.notifications.settled(paid.notifyId!);
      const n = gateway.readNotification(rx.received[0]!.body, rx.received[0]!.contentType);
      assert.equal(n.signType, 'RSA2');
      assert.equal(await gateway.verifyNotifyId(n.notifyId), true);
      assert.equal(
        (await gateway.queryTrade({ outTradeNo: n.outTradeNo! })).status,
        'TRADE_SUCCESS',
      );
      assert.deepEqual(
        (await gateway.refund({ outTradeNo: n.outTradeNo!, refundId: 'R1-1', amount: usd(100) }))
          .amount,
        usd(100),
      );
    } finally {
      await gateway.close();
      await rx.close();
      await sandbox.close();
    }
  });
});
