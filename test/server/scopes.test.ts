import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createLocalEnv } from '../helpers/temporal';
import { codeBody, eventually, startStack, type ApiAnswer, type Stack } from './support';

// Scoped merchant API keys (issue 16): every route, each kind of scope. Two secondary merchants:
// M-1 owns stores S-A1 and S-A2, M-2 owns S-B1. A resource outside a key's scope answers exactly
// like a missing one (404); a read-only key cannot write (403); listings show only its stores.
const KEYS = {
  // The sandbox default key of MERCHANT_API_KEYS: all, read-write (the stack's own calls).
  all: undefined,
  m1: 'key-merchant-M-1-read-write-000001',
  m2ro: 'key-merchant-M-2-read-only-0000002',
  sB1ro: 'key-store-S-B1-read-only-000000003',
  sA2: 'key-store-S-A2-read-write-00000004',
  slow: 'key-rate-limited-to-three-00000005',
} as const;
type KeyName = keyof typeof KEYS;

let env: TestWorkflowEnvironment;
let stack: Stack;
let dir: string;
const logs: string[] = [];
let pA: string; // paid at S-A1 (M-1)
let pB: string; // paid at S-B1 (M-2)
const matrix: Array<{ route: string; key: KeyName; status: number }> = [];

const sha = (key: string) => createHash('sha256').update(key).digest('hex');

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'engine-keys-'));
  const keysFile = path.join(dir, 'keys.json');
  writeFileSync(
    keysFile,
    JSON.stringify({
      keys: [
        { id: 'm1', sha256: sha(KEYS.m1), access: 'read-write', secondaryMerchants: ['M-1'] },
        { id: 'm2ro', sha256: sha(KEYS.m2ro), access: 'read-only', secondaryMerchants: ['M-2'] },
        { id: 'sB1ro', sha256: sha(KEYS.sB1ro), access: 'read-only', stores: ['S-B1'] },
        { id: 'sA2', sha256: sha(KEYS.sA2), access: 'read-write', stores: ['S-A2'] },
        { id: 'slow', sha256: sha(KEYS.slow), access: 'read-only', scope: 'all', ratePerMinute: 3 },
      ],
    }),
  );
  env = await createLocalEnv();
  stack = await startStack({
    temporalAddress: env.address,
    nativeConnection: env.nativeConnection,
    taskQueue: 'engine-scopes',
    env: { MERCHANT_API_KEYS_FILE: keysFile },
    logStream: { write: (line) => void logs.push(line) },
  });
  const codes: Array<[string, string]> = [
    ['S-A1', 'M-1'],
    ['S-A2', 'M-1'],
    ['S-B1', 'M-2'],
  ];
  const qrcodes: Record<string, string> = {};
  for (const [store, merchant] of codes) {
    const made = await stack.api(
      'POST',
      '/v1/codes',
      codeBody(store, { secondaryMerchantId: merchant }),
    );
    assert.equal(made.status, 201, JSON.stringify(made.json));
    qrcodes[store] = made.json.qrcode;
  }
  pA = await paid(qrcodes['S-A1']!, '10.00');
  pB = await paid(qrcodes['S-B1']!, '10.00');
});

after(async () => {
  if (matrix.length > 0) {
    // The scope matrix, for the report: route x key -> status.
    const routes = [...new Set(matrix.map((m) => m.route))];
    const names = Object.keys(KEYS).filter((k) => matrix.some((m) => m.key === k));
    console.log(`\nscope matrix\n| route | ${names.join(' | ')} |`);
    for (const route of routes) {
      const cells = names.map(
        (k) => matrix.find((m) => m.route === route && m.key === k)?.status ?? '',
      );
      console.log(`| ${route} | ${cells.join(' | ')} |`);
    }
  }
  await stack?.close();
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

async function paid(qrcode: string, amount: string): Promise<string> {
  const trade = stack.sandbox.pay({ qrcode, amount });
  await stack.sandbox.notifications.settled(trade.notifyId!, 20_000);
  const outTradeNo = trade.trade.outTradeNo;
  await eventually(async () => {
    const s = await stack.engine.getPayment(outTradeNo);
    return s.status === 'PAID' ? s : undefined;
  }, `payment ${outTradeNo} PAID`);
  return outTradeNo;
}

async function as(
  key: KeyName,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiAnswer> {
  const token = KEYS[key];
  return stack.api(method, url, body, {
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...headers,
  });
}

/** Calls `route` with each key and checks the expected status; records the matrix. */
async function expectStatuses(
  route: string,
  call: (key: KeyName) => Promise<ApiAnswer>,
  expected: Partial<Record<KeyName, number>>,
): Promise<Partial<Record<KeyName, ApiAnswer>>> {
  const answers: Partial<Record<KeyName, ApiAnswer>> = {};
  for (const [key, status] of Object.entries(expected) as Array<[KeyName, number]>) {
    const res = await call(key);
    answers[key] = res;
    matrix.push({ route, key, status: res.status });
    assert.equal(res.status, status, `${route} with key ${key}: ${JSON.stringify(res.json)}`);
  }
  return answers;
}

describe('codes', () => {
  it('read: the code of a store in scope (by merchant or by store), 404 outside', async () => {
    await expectStatuses(
      'GET code S-A1 (M-1)',
      (k) => as(k, 'GET', '/v1/stores/S-A1/codes/no-fee'),
      { all: 200, m1: 200, m2ro: 404, sB1ro: 404, sA2: 404 },
    );
    const b1 = await expectStatuses(
      'GET code S-B1 (M-2)',
      (k) => as(k, 'GET', '/v1/stores/S-B1/codes/no-fee'),
      { all: 200, m1: 404, m2ro: 200, sB1ro: 200, sA2: 404 },
    );
    // Outside the scope looks exactly like a code that does not exist.
    const missing = await as('m1', 'GET', '/v1/stores/S-NONE/codes/no-fee');
    assert.equal(missing.status, 404);
    assert.deepEqual(Object.keys(b1.m1!.json.error).sort(), Object.keys(missing.json.error).sort());
    assert.equal(b1.m1!.json.error.code, missing.json.error.code);
    await expectStatuses(
      'GET qr.svg S-A1',
      (k) => as(k, 'GET', '/v1/stores/S-A1/codes/no-fee/qr.svg'),
      { all: 200, m1: 200, m2ro: 404, sB1ro: 404, sA2: 404 },
    );
  });

  it('write: read-only keys get 403, keys of other merchants or stores 404, nothing changes', async () => {
    await expectStatuses(
      'PUT code S-A1',
      (k) =>
        as(
          k,
          'PUT',
          '/v1/stores/S-A1/codes/no-fee',
          codeBody('S-A1', { secondaryMerchantId: 'M-1', storeName: `by ${k}` }),
        ),
      { m1: 200, sA2: 404, m2ro: 403, sB1ro: 403 },
    );
    await expectStatuses(
      'POST stop S-A2',
      (k) => as(k, 'POST', '/v1/stores/S-A2/codes/no-fee/stop'),
      { m2ro: 403, sB1ro: 403, sA2: 200 },
    );
    await expectStatuses(
      'POST restart S-A2',
      (k) => as(k, 'POST', '/v1/stores/S-A2/codes/no-fee/restart'),
      { sB1ro: 403, m1: 200 },
    );
    await expectStatuses(
      'POST expected-payments S-B1',
      (k) =>
        as(k, 'POST', '/v1/stores/S-B1/codes/no-fee/expected-payments', {
          orderId: `O-${k}`,
          amount: '3.00',
          currency: 'USD',
        }),
      { m1: 404, sA2: 404, m2ro: 403, all: 201 },
    );
    await expectStatuses(
      'DELETE expected-payment S-B1',
      (k) => as(k, 'DELETE', '/v1/stores/S-B1/codes/no-fee/expected-payments/O-all'),
      { m1: 404, sB1ro: 403, all: 200 },
    );
    await expectStatuses(
      'DELETE code S-B1',
      (k) => as(k, 'DELETE', '/v1/stores/S-B1/codes/no-fee'),
      { m1: 404, sA2: 404, sB1ro: 403, m2ro: 403 },
    );
    const b1 = await as('all', 'GET', '/v1/stores/S-B1/codes/no-fee');
    assert.equal(b1.json.status, 'ACTIVE', 'the other merchant’s code is untouched');
    assert.equal(
      (await as('all', 'GET', '/v1/stores/S-A1/codes/no-fee')).json.info.storeName,
      'by m1',
    );
  });

  it('create: within the scope 201; another merchant or store 403; a store taken by another merchant 409', async () => {
    await expectStatuses(
      'POST codes S-A3 (M-1)',
      (k) => as(k, 'POST', '/v1/codes', codeBody('S-A3', { secondaryMerchantId: 'M-1' })),
      { sB1ro: 403, sA2: 403, m1: 201 },
    );
    const other = await as(
      'm1',
      'POST',
      '/v1/codes',
      codeBody('S-B9', { secondaryMerchantId: 'M-2' }),
    );
    assert.equal(other.status, 403);
    assert.equal(other.json.error.code, 'OUT_OF_SCOPE');
    const taken = await as(
      'm1',
      'POST',
      '/v1/codes',
      codeBody('S-B1', { secondaryMerchantId: 'M-1' }),
    );
    assert.equal(taken.status, 409);
    assert.equal(taken.json.error.field, 'storeId');
    assert.doesNotMatch(JSON.stringify(taken.json), /M-2|qr\.alipay/);
  });
});

describe('payments', () => {
  it('read and list: only payments made at stores in scope', async () => {
    await expectStatuses('GET payment at S-A1', (k) => as(k, 'GET', `/v1/payments/${pA}`), {
      all: 200,
      m1: 200,
      m2ro: 404,
      sB1ro: 404,
      sA2: 404,
    });
    const b = await expectStatuses(
      'GET payment at S-B1',
      (k) => as(k, 'GET', `/v1/payments/${pB}`),
      {
        all: 200,
        m1: 404,
        m2ro: 200,
        sB1ro: 200,
        sA2: 404,
      },
    );
    const unknown = await as('m1', 'GET', '/v1/payments/NO-SUCH-TRADE');
    assert.equal(b.m1!.json.error.code, unknown.json.error.code);
    const listA = await eventually(async () => {
      const res = await as('m1', 'GET', '/v1/stores/S-A1/payments');
      return res.json.payments?.length ? res : undefined;
    }, 'the S-A1 listing');
    assert.deepEqual(
      listA.json.payments.map((p: { outTradeNo: string }) => p.outTradeNo),
      [pA],
    );
    await expectStatuses('GET list S-A1', (k) => as(k, 'GET', '/v1/stores/S-A1/payments'), {
      all: 200,
      m1: 200,
      m2ro: 404,
      sB1ro: 404,
      sA2: 404,
    });
    await expectStatuses('GET list S-B1', (k) => as(k, 'GET', '/v1/stores/S-B1/payments'), {
      all: 200,
      m1: 404,
      m2ro: 200,
      sB1ro: 200,
    });
  });

  it('refund, refund status, cancel: 404 outside the scope (nothing refunded), 403 read-only', async () => {
    await expectStatuses(
      'POST refund at S-B1',
      (k) =>
        as(
          k,
          'POST',
          `/v1/payments/${pB}/refunds`,
          { amount: '1.00' },
          { 'idempotency-key': `R-${k}` },
        ),
      { m1: 404, sA2: 404, sB1ro: 403, m2ro: 403 },
    );
    assert.equal((await stack.engine.getPayment(pB)).refundedMinor, 0, 'nothing refunded');
    await expectStatuses(
      'POST refund at S-A1',
      (k) =>
        as(
          k,
          'POST',
          `/v1/payments/${pA}/refunds`,
          { amount: '1.00' },
          { 'idempotency-key': 'R-A1' },
        ),
      { m1: 201 },
    );
    await expectStatuses(
      'GET refund at S-A1',
      (k) => as(k, 'GET', `/v1/payments/${pA}/refunds/R-A1`),
      { all: 200, m1: 200, m2ro: 404, sB1ro: 404 },
    );
    await expectStatuses(
      'POST cancel at S-B1',
      (k) => as(k, 'POST', `/v1/payments/${pB}/cancel`, {}),
      { m1: 404, sA2: 404, m2ro: 403 },
    );
    assert.equal((await stack.engine.getPayment(pB)).status, 'PAID');
  });
});

describe('keys, limits and logs', () => {
  it('a key over its rate limit gets 429 with Retry-After; other keys go on', async () => {
    const statuses: number[] = [];
    let limited: ApiAnswer | undefined;
    for (let i = 0; i < 4; i++) {
      const res = await as('slow', 'GET', '/v1/stores/S-A1/codes/no-fee');
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.equal(limited!.json.error.code, 'RATE_LIMITED');
    assert.match(limited!.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal((await as('m1', 'GET', '/v1/stores/S-A1/codes/no-fee')).status, 200);
  });

  it('unknown keys are 401; keys and query strings never reach the logs', async () => {
    const res = await stack.api(
      'GET',
      '/v1/stores/S-A1/codes/no-fee?key=SECRET-IN-THE-URL',
      undefined,
      {
        authorization: 'Bearer SECRET-BEARER-NOT-A-KEY',
      },
    );
    assert.equal(res.status, 401);
    await as('m1', 'GET', '/v1/stores/S-A1/codes/no-fee?key=ANOTHER-SECRET&x=1');
    const text = logs.join('');
    assert.match(text, /\/v1\/stores\/S-A1\/codes\/no-fee/);
    for (const secret of ['SECRET-IN-THE-URL', 'SECRET-BEARER', 'ANOTHER-SECRET', KEYS.m1])
      assert.ok(!text.includes(secret), `${secret} was logged`);
  });
});
