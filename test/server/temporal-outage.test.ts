import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { NativeConnection } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../../scripts/dev-server';
import { codeBody, eventually, startStack, type Stack } from './support';

// Alipay's side of an outage: while Temporal is down the receiver must not answer `success`
// (nothing would record the payment); Alipay's next retry, after Temporal is back, lands.
let server: DevServer;
let stack: Stack;
let nativeConnection: NativeConnection;
let dir: string;
let ports: { port: number; uiPort: number };

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'engine-outage-'));
  ports = { port: await freePort(), uiPort: await freePort() };
  server = await startDevServer({ ...ports, dbFile: path.join(dir, 'temporal.sqlite') });
  nativeConnection = await NativeConnection.connect({ address: server.address });
  stack = await startStack({
    temporalAddress: server.address,
    nativeConnection,
    taskQueue: 'engine-outage',
    // Alipay's schedule, compressed: the retries come every few seconds.
    sandbox: { notifyRetryGapsMs: [1500, 3000, 3000, 5000, 8000, 15000, 30000] },
  });
});

after(async () => {
  await stack?.close();
  await nativeConnection?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('Temporal down: the notification is answered non-success, and the retry lands once it is back', async () => {
  const created = await stack.api('POST', '/v1/codes', codeBody('S-OUT'));
  assert.equal(created.status, 201);

  await server.stop();
  const paid = stack.sandbox.pay({ qrcode: created.json.qrcode, amount: '12.00' });
  const record = stack.sandbox.notifications.get(paid.notifyId!)!;
  const firstAnswer = await eventually(
    async () => record.attempts.find((a) => a.status !== undefined || a.error !== undefined),
    'the first delivery',
  );
  assert.equal(firstAnswer.acknowledged, false);
  assert.equal(firstAnswer.status, 503);
  assert.notEqual(firstAnswer.response, 'success');

  // Same port, same SQLite file: the state from before the outage is there.
  server = await startDevServer({ ...ports, dbFile: path.join(dir, 'temporal.sqlite') });
  const settled = await stack.sandbox.notifications.settled(paid.notifyId!, 60_000);
  assert.equal(settled.state, 'delivered');
  assert.ok(settled.attempts.length >= 2);
  assert.equal(settled.attempts.at(-1)?.response, 'success');

  const state = await eventually(
    async () => {
      const s = await stack.engine.getPayment(paid.trade.outTradeNo);
      return s.status === 'PAID' ? s : undefined;
    },
    'PAID after the outage',
    60_000,
  );
  assert.equal(state.paid, '12.00');
  // The code created before the outage survived it.
  assert.equal((await stack.api('GET', '/v1/stores/S-OUT/codes/no-fee')).json.status, 'ACTIVE');
});
