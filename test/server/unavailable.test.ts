import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { AlipayGateway } from '../../src/alipay';
import { EngineUnavailableError, PaymentEngineClient } from '../../src/client';
import { loadConfig } from '../../src/config';
import { buildHttpService } from '../../src/server/app';
import { QrRenderer } from '../../src/server/qr-image';
import { keysFromEnv } from '../../src/server/api-keys';
import '../helpers/temporal';

// Temporal unreachable (a port nobody listens on): every merchant API call that needs it answers
// 503 with Retry-After and a message of our own, never 500 and never the backend's words.
let app: FastifyInstance;
let engine: PaymentEngineClient;
let connection: Connection;
let qr: QrRenderer;
let gateway: AlipayGateway;
const KEY = 'unavailable-test-key-0123456789';

before(async () => {
  const port = await closedPort();
  const config = loadConfig({ TEMPORAL_METRICS_ADDRESS: 'off' });
  connection = Connection.lazy({ address: `127.0.0.1:${port}` });
  engine = new PaymentEngineClient({
    client: new Client({ connection }),
    partnerId: config.alipay.gateway.partner,
    taskQueue: 'nowhere',
    queryTimeoutMs: 1500,
    updateTimeoutMs: 1500,
    refundWaitMs: 1500,
  });
  qr = new QrRenderer({ threads: 1 });
  gateway = new AlipayGateway(config.alipay.gateway);
  app = buildHttpService({
    engine,
    gateway,
    taskQueue: 'nowhere',
    payments: config.payments,
    apiKeys: keysFromEnv([KEY]),
    notifyMaxBytes: 16_384,
    apiMaxBytes: 65_536,
    rateLimitPerMinute: 1000,
    qr,
    qrMaxSize: 2048,
    logLevel: 'silent',
  });
});

after(async () => {
  await app?.close();
  await qr?.close();
  await gateway?.close();
  await connection?.close().catch(() => undefined);
});

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

const call = (method: 'GET' | 'POST', url: string, payload?: unknown, headers = {}) =>
  app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${KEY}`, ...headers },
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });

test('refund, read, list and cancel answer 503 with Retry-After while Temporal is down', async () => {
  const answers = {
    refund: await call(
      'POST',
      '/v1/payments/OT-1/refunds',
      { amount: '1.00' },
      { 'idempotency-key': 'R-1' },
    ),
    payment: await call('GET', '/v1/payments/OT-1'),
    refundStatus: await call('GET', '/v1/payments/OT-1/refunds/R-1'),
    listing: await call('GET', '/v1/stores/S01/payments'),
    cancel: await call('POST', '/v1/payments/OT-1/cancel'),
    code: await call('GET', '/v1/stores/S01/codes/no-fee'),
  };
  for (const [name, res] of Object.entries(answers)) {
    assert.equal(res.statusCode, 503, `${name}: ${res.body}`);
    assert.equal(res.headers['retry-after'], '5', name);
    const body = res.json();
    assert.equal(body.error.code, 'ENGINE_UNAVAILABLE', name);
    assert.doesNotMatch(
      body.error.message,
      /ECONNREFUSED|UNAVAILABLE|127\.0\.0\.1|grpc|gRPC/,
      name,
    );
  }
});

test('the client: Temporal trouble is EngineUnavailableError, the cause kept for the logs', async () => {
  await assert.rejects(
    engine.refund('OT-1', { refundId: 'R-1', amount: '1.00' }),
    (err: unknown) =>
      err instanceof EngineUnavailableError && err.retryable && err.cause instanceof Error,
  );
  await assert.rejects(engine.listStorePayments('S01'), EngineUnavailableError);
});
