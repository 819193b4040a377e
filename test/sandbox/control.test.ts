import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { parseDuration, sandboxOptionsFromEnv } from '../../src/sandbox/config';
import { SandboxClock, startSandbox, type Sandbox, type TradeView } from '../../src/sandbox';
import { call, control, createCode, S, spawnSandboxMain, startReceiver } from './support';

/** The HTTP control surface (`/sandbox/*`), the clock, the env config and the `main.ts` process. */
describe('sandbox control endpoints', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startSandbox({ timeScale: 1e-4 });
  });
  after(() => sandbox.close());

  it('POST /sandbox/pay pays a code and returns the trade; errors are JSON with a status', async () => {
    const rx = await startReceiver();
    try {
      const qrcode = await createCode(sandbox, rx.url);
      const res = await control(sandbox, 'POST', '/sandbox/pay', { qrcode, amount: '8.80' });
      assert.equal(res.status, 200);
      const trade = res.json as TradeView & { notify_id: string };
      assert.equal(trade.amount, '8.80');
      assert.equal(trade.currency, 'USD');
      assert.equal(trade.trade_status, 'TRADE_SUCCESS');
      assert.match(trade.out_trade_no, /^\d{19}$/);
      assert.match(trade.trade_no, /^\d{28}$/);
      assert.match(trade.notify_id, /^[0-9a-f]{34}$/);
      await sandbox.notifications.settled(trade.notify_id);
      const byTail = await control(sandbox, 'POST', '/sandbox/pay', {
        qrcode: qrcode.split('/').pop(),
        amount: '1',
      });
      assert.equal(byTail.status, 200, 'the last path segment of the code is enough');
      for (const [body, status] of [
        [{ qrcode, amount: '8.805' }, 400],
        [{ qrcode, amount: '-1' }, 400],
        [{ qrcode, amount: '0' }, 400],
        [{ qrcode, amount: '1.00', currency: 'EUR' }, 400],
        [{ qrcode: 'https://qr.alipay.com/baxnope', amount: '1.00' }, 404],
        [{ amount: '1.00' }, 400],
      ] as const) {
        const r = await control(sandbox, 'POST', '/sandbox/pay', body);
        assert.equal(r.status, status, JSON.stringify(r.json));
        assert.match((r.json as { error: string }).error, /^SANDBOX_/);
      }
      const bad = await request(`${sandbox.url}/sandbox/pay`, {
        method: 'POST',
        body: '{nope',
        reset: true,
      });
      assert.equal(bad.statusCode, 400);
      await bad.body.text();
    } finally {
      await rx.close();
    }
  });

  it('GET /sandbox/state, /trades, /trades/{id}, /refunds, /codes, /notifications', async () => {
    const qrcode = await createCode(sandbox, undefined, { store_id: 'CT1' });
    const { trade } = sandbox.pay({ qrcode, amount: '2.00' });
    await call(sandbox, {
      service: S.REFUND,
      partner_trans_id: trade.outTradeNo,
      partner_refund_id: 'CT-R1',
      refund_amount: '0.50',
      currency: 'USD',
    });
    const state = (await control(sandbox, 'GET', '/sandbox/state')).json as Record<
      string,
      unknown[]
    >;
    for (const key of [
      'clock',
      'partners',
      'codes',
      'trades',
      'refunds',
      'notifications',
      'faults',
    ])
      assert.ok(key in state, key);
    const one = (await control(sandbox, 'GET', `/sandbox/trades/${trade.outTradeNo}`))
      .json as TradeView;
    assert.equal(one.refunded, '0.50');
    assert.equal(one.refundable_minor, 150);
    assert.equal((await control(sandbox, 'GET', '/sandbox/trades/nope')).status, 404);
    const refunds = (await control(sandbox, 'GET', '/sandbox/refunds')).json as {
      partner_refund_id: string;
    }[];
    assert.ok(refunds.some((r) => r.partner_refund_id === 'CT-R1'));
    assert.ok(
      ((await control(sandbox, 'GET', '/sandbox/codes')).json as { qrcode: string }[]).some(
        (c) => c.qrcode === qrcode,
      ),
    );
    assert.ok(Array.isArray((await control(sandbox, 'GET', '/sandbox/notifications')).json));
    assert.ok(Array.isArray((await control(sandbox, 'GET', '/sandbox/trades')).json));
    assert.equal((await control(sandbox, 'GET', '/sandbox/nope')).status, 404);
    assert.equal((await control(sandbox, 'DELETE', '/sandbox/state')).status, 405);
    assert.ok(
      ((await control(sandbox, 'GET', '/sandbox')).json as { endpoints: string[] }).endpoints
        .length > 5,
    );
  });

  it('POST/GET/DELETE /sandbox/faults script faults over HTTP', async () => {
    const { trade } = sandbox.pay({
      qrcode: await createCode(sandbox, undefined, { store_id: 'CT2' }),
      amount: '2.00',
    });
    const added = await control(sandbox, 'POST', '/sandbox/faults', [
      { service: 'alipay.acquire.overseas.query', kind: 'system-error' },
      { service: 'REFUND', kind: 'lost-answer', skip: 1 },
    ]);
    assert.equal(added.status, 201);
    const rules = added.json as { id: number; service: string }[];
    assert.deepEqual(
      rules.map((r) => r.service),
      ['QUERY', 'REFUND'],
    );
    assert.equal(
      (await call(sandbox, { service: S.QUERY, partner_trans_id: trade.outTradeNo })).envelope
        ?.error,
      'SYSTEM_ERROR',
    );
    const listed = (await control(sandbox, 'GET', '/sandbox/faults')).json as { fired: number }[];
    assert.deepEqual(
      listed.map((r) => r.fired),
      [1, 0],
    );
    assert.equal((await control(sandbox, 'DELETE', `/sandbox/faults/${rules[1]!.id}`)).status, 200);
    assert.equal((await control(sandbox, 'DELETE', '/sandbox/faults/999')).status, 404);
    const invalid = await control(sandbox, 'POST', '/sandbox/faults', {
      service: 'REFUND',
      kind: 'explode',
    });
    assert.equal(invalid.status, 400);
    assert.match((invalid.json as { message: string }).message, /kind must be one of/);
    assert.equal((await control(sandbox, 'DELETE', '/sandbox/faults')).status, 200);
    assert.deepEqual((await control(sandbox, 'GET', '/sandbox/faults')).json, []);
  });

  it('GET/POST /sandbox/clock moves the sandbox time', async () => {
    const own = await startSandbox();
    try {
      const set = await control(own, 'POST', '/sandbox/clock', {
        set: '2024-01-01 23:59:00',
        frozen: true,
      });
      assert.equal((set.json as { gmt8: string }).gmt8, '2024-01-01 23:59:00');
      const moved = await control(own, 'POST', '/sandbox/clock', { advance_ms: 120_000 });
      assert.equal((moved.json as { gmt8: string }).gmt8, '2024-01-02 00:01:00');
      assert.equal(
        ((await control(own, 'GET', '/sandbox/clock')).json as { iso: string }).iso,
        '2024-01-01T16:01:00.000Z',
      );
      assert.equal(
        (await control(own, 'POST', '/sandbox/clock', { set: 'yesterday' })).status,
        400,
      );
      // A refused request changes nothing: it does not freeze a running clock either.
      await control(own, 'POST', '/sandbox/clock', { frozen: false });
      assert.equal(
        (await control(own, 'POST', '/sandbox/clock', { set: 'yesterday', frozen: true })).status,
        400,
      );
      assert.equal(
        (
          await control(own, 'POST', '/sandbox/clock', {
            advance_ms: 'soon',
            frozen: true,
          })
        ).status,
        400,
      );
      assert.equal(
        ((await control(own, 'GET', '/sandbox/clock')).json as { frozen: boolean }).frozen,
        false,
      );
    } finally {
      await own.close();
    }
  });

  it('POST /sandbox/sign signs a request with the MD5 key, for people with curl', async () => {
    const signed = (
      await control(sandbox, 'POST', '/sandbox/sign', {
        params: { service: S.QUERY, partner_trans_id: 'NOPE' },
      })
    ).json as { query: string };
    const res = await request(`${sandbox.gatewayUrl}?${signed.query}`, { reset: true });
    assert.match(await res.body.text(), /<error>TRADE_NOT_EXIST<\/error>/);
  });
});

describe('SandboxClock', () => {
  it('runs with the host clock plus an offset, or stands still when frozen', () => {
    let host = 1_000_000;
    const clock = new SandboxClock({ source: () => host });
    clock.advance(500);
    host += 100;
    assert.equal(clock.now(), 1_000_600);
    clock.set('2024-01-01 00:00:00');
    assert.equal(clock.now(), Date.parse('2023-12-31T16:00:00Z'));
    clock.freeze();
    host += 1000;
    assert.equal(clock.now(), Date.parse('2023-12-31T16:00:00Z'));
    clock.unfreeze();
    host += 10;
    assert.equal(clock.now(), Date.parse('2023-12-31T16:00:00Z') + 10);
    clock.set(new Date('2024-06-01T00:00:00Z'));
    assert.equal(clock.now(), Date.parse('2024-06-01T00:00:00Z'));
    assert.throws(() => clock.set('2024-02-30 00:00:00'));
    assert.throws(() => clock.advance(Number.NaN));
  });
});

describe('sandbox configuration and entry point', () => {
  it('reads the environment, with clear errors', () => {
    assert.equal(parseDuration('X', '90d'), 90 * 86_400_000);
    assert.equal(parseDuration('X', '1.5h'), 5_400_000);
    assert.equal(parseDuration('X', '250'), 250);
    assert.throws(() => parseDuration('SANDBOX_REFUND_PERIOD', '3 weeks'), /SANDBOX_REFUND_PERIOD/);
    const defaults = sandboxOptionsFromEnv({});
    assert.equal(defaults.port, 8710);
    assert.equal(defaults.host, '127.0.0.1');
    assert.deepEqual(
      defaults.partners?.map((p) => p.partner),
      ['2088101122136241'],
    );
    const custom = sandboxOptionsFromEnv({
      SANDBOX_PORT: '0',
      SANDBOX_TIME_SCALE: '0.001',
      SANDBOX_REFUND_PERIOD: '2h',
      SANDBOX_CLOCK_START: '2024-01-01 23:00:00',
    });
    assert.equal(custom.port, 0);
    assert.equal(custom.timeScale, 0.001);
    assert.equal(custom.refundPeriodMs, 7_200_000);
    assert.throws(() => sandboxOptionsFromEnv({ SANDBOX_PORT: 'http' }), /SANDBOX_PORT/);
    assert.throws(() => sandboxOptionsFromEnv({ SANDBOX_TIME_SCALE: '-1' }), /SANDBOX_TIME_SCALE/);
  });

  it('reads RSA partners from SANDBOX_PARTNERS_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-partners-'));
    try {
      const pair = generateKeyPairSync('rsa', { modulusLength: 1024 });
      writeFileSync(
        join(dir, 'alipay.pem'),
        pair.privateKey.export({ type: 'pkcs8', format: 'pem' }),
      );
      writeFileSync(
        join(dir, 'merchant.pub.pem'),
        pair.publicKey.export({ type: 'spki', format: 'pem' }),
      );
      writeFileSync(
        join(dir, 'partners.json'),
        JSON.stringify([
          {
            partner: '2088202233347352',
            alipayPrivateKeyFile: 'alipay.pem',
            merchantPublicKeyFile: 'merchant.pub.pem',
          },
        ]),
      );
      const options = sandboxOptionsFromEnv({
        SANDBOX_PARTNERS_FILE: join(dir, 'partners.json'),
        SANDBOX_DEFAULT_PARTNER: 'off',
      });
      assert.equal(options.partners?.length, 1);
      assert.match(String(options.partners?.[0]?.alipayPrivateKey), /BEGIN PRIVATE KEY/);
      writeFileSync(join(dir, 'bad.json'), '{}');
      assert.throws(
        () => sandboxOptionsFromEnv({ SANDBOX_PARTNERS_FILE: join(dir, 'bad.json') }),
        /JSON array/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    'main.ts prints --help, and starts, prints its URL and stops on SIGTERM',
    { timeout: 30_000 },
    async () => {
      const tsx = ['--import', 'tsx', 'src/sandbox/main.ts'];
      const help = spawn(process.execPath, [...tsx, '--help'], { cwd: join(__dirname, '../..') });
      let helpText = '';
      help.stdout.on('data', (c: Buffer) => (helpText += c.toString()));
      const [helpCode] = (await once(help, 'exit')) as [number];
      assert.equal(helpCode, 0);
      assert.match(helpText, /SANDBOX_PORT/);
      assert.match(helpText, /\/sandbox\/pay/);

      const { url, stop } = await spawnSandboxMain();
      try {
        const health = await request(`${url}/healthz`, { reset: true });
        assert.deepEqual(await health.body.json(), { ok: true });
      } finally {
        assert.equal(await stop(), 0);
      }
    },
  );
});
