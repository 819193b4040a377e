import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createStore, customerPays, notificationsSettle, paymentsReach } from './flows';
import { assertNoSecret, check } from './hostile-support';
import type { ReliabilityStack } from './stack';
import type { Row } from './tally';

/**
 * Hostile merchant API requests: random paths and methods, wrong bearer keys, random bodies for
 * refunds, cancels, codes and counter orders, odd headers. No 5xx, no secret in an answer, a
 * wrong key is always 401, and a refused request changes nothing: at the end the payment's
 * ledger holds exactly the refunds that were answered 2xx, and only accepted codes and orders
 * exist.
 */
const STORE = 'S-HOSTILE-A';

const SEGMENTS = [
  'v1',
  'payments',
  'stores',
  'codes',
  'no-fee',
  'fee',
  'refunds',
  'cancel',
  'expected-payments',
  'qr.png',
  'qr.svg',
  '..',
  '%2e%2e',
  '%00',
  '%ff%fe',
  '咖啡',
  '__proto__',
  'constructor',
  "' OR 1=1 --",
  'AlipayStoreId = "x"',
  'a'.repeat(3000),
];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];
const HOSTILE_AMOUNTS = [
  '-1.00',
  '0',
  '0.00',
  '0.001',
  '1e2',
  '1,00',
  ' 1.00',
  '１.００',
  'NaN',
  'Infinity',
  '0x10',
  '9'.repeat(40),
  '99999999999999999999.99',
  '',
];

export async function hostileApi(stack: ReliabilityStack, row: Row): Promise<void> {
  const qrcode = await createStore(stack, STORE);
  const paid = customerPays(stack, qrcode, '100.00');
  await notificationsSettle(stack, [paid.notifyId!], 60_000);
  const outTradeNo = paid.trade.outTradeNo;
  const ready = await paymentsReach(stack, [outTradeNo], (s) => s.status === 'PAID', 60_000);
  assert.equal(ready.get(outTradeNo)?.status, 'PAID');

  const accepted = {
    refunds: new Set<string>(),
    stores: new Set<string>(),
    orders: new Set<string>(),
  };
  const refused = { stores: new Set<string>() };
  const send = async (
    method: string,
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
  ): Promise<{ status: number; text: string }> => {
    row.fuzzCases += 1;
    let res: Response;
    try {
      res = await fetch(`${stack.httpUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined && method !== 'GET' && method !== 'HEAD' ? { body } : {}),
        signal: AbortSignal.timeout(70_000),
      });
    } catch (err) {
      // fetch itself refuses some header values (control characters): not a server answer.
      if (err instanceof TypeError && !/fetch failed/.test(err.message))
        return { status: 0, text: '' };
      throw err;
    }
    const text = await res.text();
    if (res.status >= 500) row.serverErrorsOnBadInput += 1;
    assertNoSecret(text, stack.secrets, `answer to ${method} ${path.slice(0, 80)}`);
    assert.ok(
      res.status < 500,
      `${method} ${path.slice(0, 120)} ${JSON.stringify(body?.slice(0, 200))}: ${res.status} ${text.slice(0, 200)}`,
    );
    return { status: res.status, text };
  };
  const auth = { authorization: `Bearer ${stack.apiKey}` };
  const json = { ...auth, 'content-type': 'application/json' };

  await check(
    'random paths and methods',
    fc.tuple(
      fc.constantFrom(...METHODS),
      fc.array(fc.oneof(fc.constantFrom(...SEGMENTS), fc.webSegment()), {
        minLength: 1,
        maxLength: 6,
      }),
      fc.boolean(),
    ),
    150,
    async ([method, segments, withKey]) => {
      const path = `/${segments.join('/')}`;
      const res = await send(
        method,
        path,
        method === 'GET' ? undefined : '{}',
        withKey ? json : {},
      );
      if (
        res.status >= 200 &&
        res.status < 300 &&
        method !== 'GET' &&
        method !== 'HEAD' &&
        method !== 'OPTIONS'
      )
        assert.fail(
          `a random ${method} ${path.slice(0, 100)} was accepted: ${res.text.slice(0, 200)}`,
        );
    },
  );

  // Wrong keys: every variation of the real key is refused with 401 and changes nothing.
  const key = stack.apiKey;
  await check(
    'wrong bearer keys',
    fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.nat(key.length - 1).map((i) => key.slice(0, i)),
      fc
        .tuple(fc.nat(key.length - 1), fc.constantFrom('0', 'Z', '-', '_', '=', '.'))
        .filter(([i, c]) => key[i] !== c)
        .map(([i, c]) => key.slice(0, i) + c + key.slice(i + 1)),
      fc.constant(key.toUpperCase()),
      fc.constant(`${key}x`),
      fc.constant(`${key},${key}`),
    ),
    120,
    async (wrong) => {
      for (const header of [
        `Bearer ${wrong}`,
        wrong,
        `Basic ${Buffer.from(`${key}:`).toString('base64')}`,
      ]) {
        const res = await send(
          'POST',
          `/v1/payments/${outTradeNo}/refunds`,
          JSON.stringify({ amount: '1.00' }),
          {
            authorization: header,
            'content-type': 'application/json',
            'idempotency-key': `WRONG-KEY-${row.fuzzCases}`,
          },
        );
        if (res.status !== 0)
          assert.equal(res.status, 401, `key ${JSON.stringify(header.slice(0, 60))}`);
      }
    },
  );

  await check(
    'refund requests',
    fc.tuple(
      fc.oneof(
        fc.record({ amount: fc.constantFrom(...HOSTILE_AMOUNTS) }, { requiredKeys: [] }),
        fc.record({
          amount: fc.oneof(fc.double(), fc.integer(), fc.constant(null), fc.array(fc.string())),
        }),
        {
          // Valid ones too: the ledger check below must have something to hold.
          arbitrary: fc.record(
            {
              amount: fc.constantFrom('1.00', '0.50', '0.01'),
              currency: fc.constantFrom('USD', 'usd'),
              reason: fc.string({ maxLength: 60 }),
            },
            { requiredKeys: ['amount'] },
          ),
          weight: 3,
        },
        fc.record({
          amount: fc.constantFrom('1.00', '0.50'),
          currency: fc.constantFrom('USD', 'EUR', 'usd', 'JPY', '', 'XXX', '💶'),
          reason: fc.string({ maxLength: 300 }),
        }),
        fc.record({
          amount: fc.constant('1.00'),
          reason: fc.oneof(fc.integer(), fc.string({ minLength: 300, maxLength: 2000 })),
        }),
        fc.jsonValue(),
      ),
      fc.oneof(
        { arbitrary: fc.stringMatching(/^[A-Za-z0-9-]{1,32}$/), weight: 3 },
        fc.string({ maxLength: 100 }),
        fc.constant(''),
        fc.constant('K'.repeat(200)),
        fc.constant('../../x'),
        fc.constant('咖啡'),
      ),
      fc.oneof(
        { arbitrary: fc.constant('application/json'), weight: 4 },
        fc.constantFrom(
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/json; charset=latin1',
        ),
      ),
    ),
    200,
    async ([body, idempotencyKey, contentType]) => {
      const res = await send('POST', `/v1/payments/${outTradeNo}/refunds`, JSON.stringify(body), {
        ...auth,
        'content-type': contentType,
        'idempotency-key': idempotencyKey,
      });
      if (res.status === 201 || res.status === 202) accepted.refunds.add(idempotencyKey);
    },
  );

  await check(
    'codes and counter orders',
    fc.tuple(
      fc.string({ minLength: 1, maxLength: 40 }),
      fc.dictionary(
        fc.constantFrom(
          'secondaryMerchantId',
          'secondaryMerchantName',
          'merchantCategoryCode',
          'storeId',
          'storeName',
          'pricingCurrency',
          'settlementCurrency',
          'channelFee',
          'unmatchedPayments',
          'storeNmae',
          'orderId',
          'amount',
          'currency',
          'ttlSeconds',
          '__proto__',
        ),
        fc.oneof(
          fc.string({ maxLength: 30 }),
          fc.integer(),
          fc.constantFrom(...HOSTILE_AMOUNTS),
          fc.jsonValue(),
        ),
      ),
      fc.boolean(),
    ),
    150,
    async ([storeId, fields, asOrder]) => {
      if (asOrder) {
        const res = await send(
          'POST',
          `/v1/stores/${STORE}/codes/no-fee/expected-payments`,
          JSON.stringify(fields),
          json,
        );
        if (res.status === 201 || res.status === 200)
          accepted.orders.add(String(fields['orderId']));
        return;
      }
      const res = await send('POST', '/v1/codes', JSON.stringify({ ...fields, storeId }), json);
      if (res.status === 201 || res.status === 200) accepted.stores.add(storeId);
      else if (/^[A-Za-z0-9-]{1,32}$/.test(storeId) && refused.stores.size < 20)
        refused.stores.add(storeId);
    },
  );

  await check(
    'odd headers and bodies',
    fc.tuple(
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-16',
        'text/xml',
        '*/*',
        'application/x-www-form-urlencoded',
        '',
      ),
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.constant('{"amount":"1.00"'),
        fc.constant('[]'),
        fc.constant('{"__proto__":{"amount":"1.00"}}'),
        fc.constant(`{"amount":"1.00","x":"${'y'.repeat(300_000)}"}`),
      ),
      fc.constantFrom(
        `/v1/payments/${outTradeNo}/refunds`,
        `/v1/payments/${outTradeNo}/cancel`,
        '/v1/codes',
        `/v1/stores/${STORE}/codes/no-fee`,
      ),
    ),
    100,
    async ([contentType, body, path]) => {
      const res = await send('POST', path, body, {
        ...auth,
        'content-type': contentType,
        'idempotency-key': 'ODD-1',
      });
      if (path.endsWith('/refunds') && (res.status === 201 || res.status === 202))
        accepted.refunds.add('ODD-1');
      if (path.endsWith('/cancel'))
        assert.notEqual(
          res.status,
          200,
          `a hostile cancel body was accepted: ${body.slice(0, 100)}`,
        );
    },
  );

  assert.ok(
    accepted.refunds.size > 0,
    'some generated refunds were valid (the ledger check is not vacuous)',
  );
  // Nothing refused left a trace.
  const state = (
    await paymentsReach(
      stack,
      [outTradeNo],
      (s) => s.refunds.every((r) => r.status !== 'PENDING'),
      30_000,
    )
  ).get(outTradeNo)!;
  assert.deepEqual(
    state.refunds.map((r) => r.refundId).sort(),
    [...accepted.refunds].sort(),
    'the ledger holds exactly the accepted refunds',
  );
  assert.equal(state.status === 'CANCELLED', false, 'no hostile request cancelled the payment');
  const code = await stack.api('GET', `/v1/stores/${STORE}/codes/no-fee`);
  const pending = (code.json.pendingOrders as Array<{ orderId: string }>).map((o) => o.orderId);
  for (const id of pending)
    assert.ok(accepted.orders.has(id), `counter order ${id} exists but was never accepted`);
  for (const storeId of refused.stores) {
    if (accepted.stores.has(storeId)) continue;
    const res = await stack.api('GET', `/v1/stores/${encodeURIComponent(storeId)}/codes/no-fee`);
    assert.equal(res.status, 404, `refused store ${storeId} has a code`);
  }
  assert.ok(
    stack.http.alive() && stack.worker.alive(),
    'no crash: the HTTP service and the worker still run',
  );
  console.log(
    `hostile API: ${row.fuzzCases} requests; accepted ${accepted.refunds.size} refunds, ${accepted.stores.size} codes, ${accepted.orders.size} orders`,
  );
}
