import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  AlipayGateway,
  AlipayRequestValidationError,
  AlipayTransportError,
  type GatewayCallRecord,
} from '../../src/alipay';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { storeInput } from './client';
import { MD5_KEY, PARTNER } from './support';

const usd = (minor: number): { minor: number; currency: string } => ({ minor, currency: 'USD' });

/** `GatewayDeps.observe` against the sandbox: one record per call, success and failure alike. */
describe('AlipayGateway against the sandbox: the call observer', () => {
  let sandbox: Sandbox;
  let gateway: AlipayGateway;
  let qrcode: string;
  const calls: GatewayCallRecord[] = [];
  let observerThrows = false;
  const seen = (): Omit<GatewayCallRecord, 'seconds'>[] =>
    calls.map(({ service, outcome }) => ({ service, outcome }));

  before(async () => {
    sandbox = await startSandbox();
    gateway = new AlipayGateway(
      {
        gatewayUrl: sandbox.gatewayUrl,
        partner: PARTNER,
        signType: 'MD5',
        md5Key: MD5_KEY,
        readTimeoutMs: 2000,
      },
      {
        now: () => sandbox.clock.now(),
        observe: (call) => {
          calls.push(call);
          if (observerThrows) throw new Error('observer bug');
        },
      },
    );
    qrcode = (await gateway.createQrCode(storeInput('O1'))).qrcode;
  });
  beforeEach(() => {
    calls.length = 0;
    observerThrows = false;
    sandbox.faults.clear();
  });
  after(async () => {
    await gateway.close();
    await sandbox.close();
  });

  const paidTrade = (): { outTradeNo: string; tradeNo: string } => {
    const { trade } = sandbox.pay({ qrcode, amount: '10.00' });
    return { outTradeNo: trade.outTradeNo, tradeNo: trade.tradeNo };
  };

  it('a successful QUERY: service QUERY, outcome ok, its duration in seconds', async () => {
    const t = paidTrade();
    await gateway.queryTrade(t);
    assert.deepEqual(seen(), [{ service: 'QUERY', outcome: 'ok' }]);
    const seconds = calls[0]!.seconds;
    assert.ok(seconds > 0 && seconds < 2, `seconds=${seconds}`);
  });

  it('every service by its short name', async () => {
    const t = paidTrade();
    await gateway.modifyQrCode(qrcode, storeInput('O1', { storeName: 'Renamed' }));
    await gateway.setQrCodeStatus(qrcode, 'STOP');
    await gateway.setQrCodeStatus(qrcode, 'RESTART');
    await gateway.refund({ ...t, refundId: 'O-1', amount: usd(100) });
    await gateway.cancelTrade(paidTrade());
    assert.equal(await gateway.verifyNotifyId('f'.repeat(34)), false);
    await gateway.createQrCode(storeInput('O2'));
    assert.deepEqual(
      seen().map((c) => c.service),
      ['MODIFY', 'MODIFYSTATUS', 'MODIFYSTATUS', 'REFUND', 'CANCEL', 'NOTIFY_VERIFY', 'CREATE'],
    );
    assert.ok(seen().every((c) => c.outcome === 'ok'));
  });

  it("a failed call: the error's code (transport fault, Alipay's refusal, invalid input)", async () => {
    const t = paidTrade();
    sandbox.faults.add({ service: 'QUERY', kind: 'reset' });
    await assert.rejects(gateway.queryTrade(t), AlipayTransportError);
    sandbox.faults.add({ service: 'REFUND', kind: 'system-error' });
    await assert.rejects(gateway.refund({ ...t, refundId: 'O-2', amount: usd(100) }));
    await assert.rejects(gateway.queryTrade({ outTradeNo: 'NO-SUCH-TRADE-1' }));
    await assert.rejects(
      gateway.refund({ ...t, refundId: '', amount: usd(100) }),
      AlipayRequestValidationError,
    );
    assert.deepEqual(seen(), [
      { service: 'QUERY', outcome: 'ALIPAY_TRANSPORT' },
      { service: 'REFUND', outcome: 'ALIPAY_SYSTEM_ERROR' },
      { service: 'QUERY', outcome: 'ALIPAY_BUSINESS_FAILED' },
      { service: 'REFUND', outcome: 'ALIPAY_INVALID_REQUEST' },
    ]);
  });

  it('an observer that throws changes nothing for the caller', async () => {
    observerThrows = true;
    const t = paidTrade();
    assert.equal((await gateway.queryTrade(t)).status, 'TRADE_SUCCESS');
    sandbox.faults.add({ service: 'QUERY', kind: 'reset' });
    await assert.rejects(gateway.queryTrade(t), AlipayTransportError);
    assert.equal(calls.length, 2);
  });
});
