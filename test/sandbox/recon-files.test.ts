import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import SftpClient from 'ssh2-sftp-client';
import { utils } from 'ssh2';
import {
  downloadFiles,
  hostKeyFingerprint,
  type ReconciliationSftpConfig,
} from '../../src/alipay/reconciliation-sftp';
import {
  parseSettlementFile,
  parseTransactionFile,
  ReconciliationFileError,
} from '../../src/alipay/reconciliation-file';
import type { AlipayGateway } from '../../src/alipay';
import { reconFileName, startSandbox, type Sandbox } from '../../src/sandbox';
import { gatewayFor, storeInput } from './client';
import { control, PARTNER } from './support';

// The sandbox's daily files (MAPI.md §15 layout, [R] guesses in src/sandbox/README.md) served by
// its real SFTP server, read back with the engine's SFTP client and parser.
const DAY = '2026-11-30';
let sandbox: Sandbox;
let gateway: AlipayGateway;
const trades: { outTradeNo: string; tradeNo: string }[] = [];

function sftpConfig(overrides: Partial<ReconciliationSftpConfig> = {}): ReconciliationSftpConfig {
  return {
    host: sandbox.sftp!.host,
    port: sandbox.sftp!.port,
    username: sandbox.sftp!.username,
    password: sandbox.sftp!.password!,
    directory: sandbox.sftp!.directory,
    timeoutMs: 5000,
    ...overrides,
  };
}

const names = (date = DAY) => ({
  transaction: reconFileName(PARTNER, 'transaction', date),
  settlement: reconFileName(PARTNER, 'settlement', date),
});

async function download(date = DAY) {
  const n = names(date);
  const files = await downloadFiles(sftpConfig(), [n.transaction, n.settlement]);
  return { transaction: files.get(n.transaction), settlement: files.get(n.settlement) };
}

before(async () => {
  sandbox = await startSandbox({ clock: { start: `${DAY} 10:00:00`, frozen: true } });
  gateway = gatewayFor(sandbox);
  const { qrcode } = await gateway.createQrCode(storeInput('R1', { storeName: '中环咖啡, R1' }));
  for (const amount of ['10.00', '20.00', '30.00']) {
    const paid = sandbox.pay({ qrcode, amount });
    trades.push({ outTradeNo: paid.trade.outTradeNo, tradeNo: paid.trade.tradeNo });
    sandbox.clock.advance(60_000);
  }
  const [t0, t1] = trades as [(typeof trades)[0], (typeof trades)[0]];
  await gateway.refund({
    ...t0,
    refundId: 'RF-1',
    amount: { minor: 250, currency: 'USD' },
    reason: 'cup, broken',
  });
  sandbox.clock.advance(60_000);
  await gateway.cancelTrade(t1);
  // The next day's trade must not appear in DAY's files.
  sandbox.clock.set('2026-12-01 00:00:01');
  sandbox.pay({ qrcode, amount: '5.00' });
});

after(async () => {
  await gateway?.close();
  await sandbox?.close();
});

describe('reconciliation files', () => {
  it('publishes nothing before the day is over plus the delay, then the day by itself', async () => {
    sandbox.clock.set('2026-12-01 01:59:00');
    assert.deepEqual(await download(), { transaction: undefined, settlement: undefined });
    sandbox.clock.set('2026-12-01 02:00:00');
    const { transaction, settlement } = await download();
    assert.ok(transaction && settlement);
    const file = parseTransactionFile(transaction, {
      name: names().transaction,
      partner: PARTNER,
      date: DAY,
      charset: 'UTF-8',
    });
    assert.deepEqual(
      file.records.map((r) => [
        r.type,
        r.reference,
        r.tradeNo,
        r.amountMinor,
        r.feeMinor,
        r.currency,
      ]),
      [
        ['PAYMENT', trades[0]!.outTradeNo, trades[0]!.tradeNo, 1000, 18, 'USD'],
        ['PAYMENT', trades[1]!.outTradeNo, trades[1]!.tradeNo, 2000, 36, 'USD'],
        ['PAYMENT', trades[2]!.outTradeNo, trades[2]!.tradeNo, 3000, 54, 'USD'],
        ['REFUND', 'RF-1', trades[0]!.tradeNo, 250, 0, 'USD'],
        ['CANCEL', trades[1]!.outTradeNo, trades[1]!.tradeNo, 2000, 0, 'USD'],
      ],
    );
    assert.equal(file.records[0]!.remark, '中环咖啡, R1'); // quoted CSV field, UTF-8
    assert.equal(file.records[3]!.remark, 'cup, broken');
    const settled = parseSettlementFile(settlement, {
      name: names().settlement,
      partner: PARTNER,
      date: DAY,
      charset: 'UTF-8',
    });
    assert.deepEqual(
      settled.records.map((r) => [
        r.kind,
        r.reference,
        r.amountMinor,
        r.feeMinor,
        r.settlementMinor,
        r.status,
      ]),
      [
        ['PAYMENT', trades[0]!.outTradeNo, 1000, 18, 982, 'L'],
        ['PAYMENT', trades[1]!.outTradeNo, 2000, 36, 1964, 'L'],
        ['PAYMENT', trades[2]!.outTradeNo, 3000, 54, 2946, 'L'],
        ['REFUND', 'RF-1', 250, 0, 250, 'L'],
        // §15: a cancelled trade's settlement row carries the Alipay ID as partner ID.
        ['REFUND', trades[1]!.tradeNo, 2000, 0, 2000, 'L'],
      ],
    );
  });

  it('refuses a wrong password and accepts a configured key', async () => {
    await assert.rejects(
      downloadFiles(sftpConfig({ password: 'wrong' }), ['x']),
      /authentication/i,
    );
    const user = usableKeyPair();
    const keyed = await startSandbox({
      sftp: { account: { username: 'partner-key', authorizedKeys: [user.public] } },
    });
    try {
      const client = new SftpClient();
      await client.connect({
        host: keyed.sftp!.host,
        port: keyed.sftp!.port,
        username: 'partner-key',
        privateKey: user.private,
      });
      assert.deepEqual(await client.list('/download'), []);
      await assert.rejects(client.put(Buffer.from('x'), '/download/x.csv'), /denied|permission/i);
      await client.end();
      const other = usableKeyPair();
      const stranger = new SftpClient();
      await assert.rejects(
        stranger.connect({
          host: keyed.sftp!.host,
          port: keyed.sftp!.port,
          username: 'partner-key',
          privateKey: other.private,
        }),
        /authentication/i,
      );
    } finally {
      await keyed.close();
    }
  });

  it('produces a day at once, and pins the host key when asked', async () => {
    const res = await control(sandbox, 'POST', '/sandbox/recon/2026-12-01/produce');
    assert.equal(res.status, 200);
    const files = await downloadFiles(
      sftpConfig({
        hostKeySha256: hostKeyFingerprint(
          Buffer.from(sandbox.sftp!.hostPublicKey.split(' ')[1]!, 'base64'),
        ),
      }),
      [names('2026-12-01').transaction],
    );
    const file = parseTransactionFile(files.get(names('2026-12-01').transaction)!, {
      name: 'x',
      partner: PARTNER,
      date: '2026-12-01',
      charset: 'UTF-8',
    });
    assert.equal(file.records.length, 1);
    await assert.rejects(
      downloadFiles(
        sftpConfig({ hostKeySha256: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
        ['x'],
      ),
      /host key/,
    );
  });

  it('faults: missing, late, truncated, and a row that disagrees with its trade', async () => {
    const date = DAY;
    const expected = {
      name: names().transaction,
      partner: PARTNER,
      date,
      charset: 'UTF-8' as const,
    };
    assert.equal(
      (await control(sandbox, 'POST', `/sandbox/recon/${date}/faults`, { kind: 'missing' })).status,
      201,
    );
    assert.deepEqual(await download(), { transaction: undefined, settlement: undefined });

    await control(sandbox, 'DELETE', `/sandbox/recon/${date}/faults`);
    await control(sandbox, 'POST', `/sandbox/recon/${date}/faults`, {
      kind: 'late',
      ms: 3_600_000,
      file: 'transaction',
    });
    let got = await download();
    assert.equal(got.transaction, undefined);
    assert.ok(got.settlement);
    sandbox.clock.advance(3_600_000);
    assert.ok((await download()).transaction);

    await control(sandbox, 'DELETE', `/sandbox/recon/${date}/faults`);
    await control(sandbox, 'POST', `/sandbox/recon/${date}/faults`, { kind: 'truncated' });
    got = await download();
    assert.throws(() => parseTransactionFile(got.transaction!, expected), ReconciliationFileError);
    assert.throws(() => parseTransactionFile(got.transaction!, expected), /truncated/);

    await control(sandbox, 'DELETE', `/sandbox/recon/${date}/faults`);
    await control(sandbox, 'POST', `/sandbox/recon/${date}/faults`, {
      kind: 'tamper',
      outTradeNo: trades[2]!.outTradeNo,
    });
    got = await download();
    const tampered = parseTransactionFile(got.transaction!, expected).records.find(
      (r) => r.reference === trades[2]!.outTradeNo,
    );
    assert.equal(tampered?.amountMinor, 3100);
    assert.equal(
      (await control(sandbox, 'POST', `/sandbox/recon/${date}/faults`, { kind: 'odd' })).status,
      400,
    );
    await control(sandbox, 'DELETE', `/sandbox/recon/${date}/faults`);
  });

  it('writes GBK when configured, and the parser reads it in that charset only', async () => {
    const gbk = await startSandbox({
      recon: { charset: 'GBK' },
      clock: { start: `${DAY} 09:00:00`, frozen: true },
    });
    const gw = gatewayFor(gbk);
    try {
      const { qrcode } = await gw.createQrCode(storeInput('G1', { storeName: '九龙茶餐厅' }));
      gbk.pay({ qrcode, amount: '8.80' });
      gbk.recon.produce(DAY);
      const name = names().transaction;
      const files = await downloadFiles(
        {
          host: gbk.sftp!.host,
          port: gbk.sftp!.port,
          username: gbk.sftp!.username,
          password: gbk.sftp!.password!,
          directory: '/download',
          timeoutMs: 5000,
        },
        [name],
      );
      const bytes = files.get(name)!;
      const file = parseTransactionFile(bytes, {
        name,
        partner: PARTNER,
        date: DAY,
        charset: 'GBK',
      });
      assert.equal(file.records[0]!.remark, '九龙茶餐厅');
      assert.throws(
        () => parseTransactionFile(bytes, { name, partner: PARTNER, date: DAY, charset: 'UTF-8' }),
        /charset really UTF-8/,
      );
    } finally {
      await gw.close();
      await gbk.close();
    }
  });
});

/** ssh2's ed25519 generator writes a key its own parser refuses about once in 200: skip those. */
function usableKeyPair(): { private: string; public: string } {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.private) instanceof Error)) return pair;
  }
}
