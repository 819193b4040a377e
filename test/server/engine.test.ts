import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { RequestRejectedError } from '../../src/client';
import { buildNotificationBody, createMd5Signer } from '../../src/alipay';
import { paymentWorkflowId } from '../../src/workflows/payment-types';
import { gatewayRefundId } from '../../src/workflows/refund-ids';
import type { PaymentState } from '../../src/workflows/payment-types';
import { createLocalEnv } from '../helpers/temporal';
import { codeBody, eventually, startStack, type Stack } from './support';

// The engine as a merchant and Alipay see it, on a real dev server: the HTTP service, the real
// worker and activities, the sandbox as Alipay. Notifications arrive through the receiver only.
let env: TestWorkflowEnvironment;
let stack: Stack;
let qrcode: string;
const STORE = 'S-HTTP';

before(async () => {
  env = await createLocalEnv();
  stack = await startStack({
    temporalAddress: env.address,
    nativeConnection: env.nativeConnection,
    taskQueue: 'engine-http',
  });
  const created = await stack.api('POST', '/v1/codes', codeBody(STORE));
  assert.equal(created.status, 201, JSON.stringify(created.json));
  qrcode = created.json.qrcode;
});

after(async () => {
  await stack?.close();
  await env?.teardown();
});

/** A customer pays the store's code; resolves once Alipay's notification was acknowledged. */
async function customerPays(amount: string, code = qrcode) {
  const paid = stack.sandbox.pay({ qrcode: code, amount });
  const record = await stack.sandbox.notifications.settled(paid.notifyId!, 20_000);
  return { outTradeNo: paid.trade.outTradeNo, record };
}

async function paymentReaches(outTradeNo: string, done: (s: PaymentState) => boolean) {
  return eventually(async () => {
    const res = await stack.api('GET', `/v1/payments/${outTradeNo}`);
    return res.status === 200 && done(res.json) ? (res.json as PaymentState) : undefined;
  }, `payment ${outTradeNo}`);
}

describe('codes', () => {
  it('get-or-create: a second create answers the same code with 200', async () => {
    const again = await stack.api('POST', '/v1/codes', codeBody(STORE));
    assert.equal(again.status, 200);
    assert.equal(again.json.qrcode, qrcode);
    assert.equal(again.json.status, 'ACTIVE');
    assert.equal(again.json.links.png, `/v1/stores/${STORE}/codes/no-fee/qr.png`);
  });

  it('draws the code as PNG and SVG for printing', async () => {
    const png = await stack.api('GET', `/v1/stores/${STORE}/codes/no-fee/qr.png?size=256`);
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.deepEqual(
      [...png.bytes.subarray(0, 8)],
      [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    );
    assert.equal(png.bytes.readUInt32BE(16), 256); // IHDR width
    const svg = await stack.api('GET', `/v1/stores/${STORE}/codes/no-fee/qr.svg`);
    assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
    assert.match(svg.bytes.toString('utf8'), /^<svg[^>]*viewBox/);
  });

  it('refuses bad input with a 400 naming the field, and unknown keys with 401', async () => {
    const typo = await stack.api('POST', '/v1/codes', { ...codeBody('S-BAD'), storeNmae: 'x' });
    assert.equal(typo.status, 400);
    assert.equal(typo.json.error.field, 'storeNmae');
    const mcc = await stack.api(
      'POST',
      '/v1/codes',
      codeBody('S-BAD', { merchantCategoryCode: '58' }),
    );
    assert.equal(mcc.status, 400);
    assert.equal(mcc.json.error.field, 'merchantCategoryCode');
    const fee = await stack.api(
      'POST',
      '/v1/codes',
      codeBody('S-BAD', { channelFee: { type: 'FIXED', amount: 0.5 } }),
    );
    assert.equal(fee.json.error.field, 'channelFee.amount');
    const noKey = await stack.api('GET', `/v1/stores/${STORE}/codes/no-fee`, undefined, {
      authorization: 'Bearer not-a-key',
    });
    assert.equal(noKey.status, 401);
    assert.equal(noKey.headers.get('www-authenticate'), 'Bearer realm="alipay-qr-engine"');
    const missing = await stack.api('GET', '/v1/stores/S-NONE/codes/no-fee');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'QR_CODE_NOT_FOUND');
  });

  it('stops, restarts and deletes a code; a stopped code refuses counter orders with 409', async () => {
    const made = await stack.api('POST', '/v1/codes', codeBody('S-LIFE'));
    assert.equal(made.status, 201);
    const base = '/v1/stores/S-LIFE/codes/no-fee';
    assert.equal((await stack.api('POST', `${base}/stop`)).json.status, 'STOPPED');
    const refused = await stack.api('POST', `${base}/expected-payments`, {
      orderId: 'O-1',
      amount: '5.00',
      currency: 'USD',
    });
    assert.equal(refused.status, 409);
    assert.equal(refused.json.error.code, 'REQUEST_REJECTED');
    assert.equal((await stack.api('POST', `${base}/restart`)).json.status, 'ACTIVE');
    const modified = await stack.api('PUT', base, codeBody('S-LIFE', { storeName: 'Renamed' }));
    assert.equal(modified.status, 200);
    assert.equal(modified.json.info.storeName, 'Renamed');
    assert.equal((await stack.api('DELETE', base)).json.status, 'DELETED');
    assert.equal((await stack.api('GET', base)).status, 404);
  });
});

describe('payments', () => {
  it('notification -> PAID -> two partial refunds, seen through the API and the client', async () => {
    const { outTradeNo, record } = await customerPays('25.00');
    const answers = record.attempts.filter((a) => a.kind === 'genuine');
    assert.equal(answers.at(-1)?.status, 200);
    assert.equal(answers.at(-1)?.response, 'success'); // byte-exact: the sandbox compares too
    assert.equal(record.state, 'delivered');

    const paid = await paymentReaches(outTradeNo, (s) => s.status === 'PAID');
    assert.equal(paid.paid, '25.00');
    assert.equal(paid.storeId, STORE);

    const first = await stack.api(
      'POST',
      `/v1/payments/${outTradeNo}/refunds`,
      { amount: '5.00', reason: 'one coffee returned' },
      { 'idempotency-key': 'R-HTTP-1' },
    );
    assert.equal(first.status, 201, JSON.stringify(first.json));
    assert.equal(first.json.refundId, 'R-HTTP-1');
    assert.equal(first.json.status, 'SUCCEEDED');
    // The same Idempotency-Key again: the same refund, not a second one.
    const repeat = await stack.api(
      'POST',
      `/v1/payments/${outTradeNo}/refunds`,
      { amount: '5.00', reason: 'one coffee returned' },
      { 'idempotency-key': 'R-HTTP-1' },
    );
    assert.equal(repeat.status, 201);
    assert.deepEqual(repeat.json, first.json);

    const viaClient = await stack.engine.refund(outTradeNo, {
      refundId: 'R-HTTP-2',
      amount: '2.50',
    });
    assert.equal(viaClient.status, 'SUCCEEDED');
    const state = await stack.engine.getPayment(outTradeNo);
    assert.equal(state.status, 'PARTIALLY_REFUNDED');
    assert.equal(state.refunded, '7.50');
    assert.equal(state.refundable, '17.50');
    const atAlipay = stack.sandbox.state
      .refunds()
      .filter((r) => r['partner_trans_id'] === outTradeNo);
    // Alipay keys refunds per partner: the engine sends an ID derived from payment and key.
    assert.deepEqual(
      atAlipay.map((r) => r['partner_refund_id']).sort(),
      state.refunds.map((r) => r.gatewayRefundId).sort(),
    );
    assert.deepEqual(
      state.refunds.map((r) => r.gatewayRefundId),
      ['R-HTTP-1', 'R-HTTP-2'].map((key) =>
        gatewayRefundId(stack.engine.partnerId, outTradeNo, key),
      ),
    );

    const listed = await eventually(async () => {
      const page = await stack.api('GET', `/v1/stores/${STORE}/payments?status=PARTIALLY_REFUNDED`);
      return page.json.payments.find((p: { outTradeNo: string }) => p.outTradeNo === outTradeNo);
    }, 'the payment in the store listing');
    assert.equal(listed.refunded, '7.50');
    assert.equal(listed.paid, '25.00');
  });

  it('refund refusals: 400 for the request shape, 422 invalid, 409 conflicting, nothing refunded', async () => {
    const { outTradeNo } = await customerPays('10.00');
    await paymentReaches(outTradeNo, (s) => s.status === 'PAID');
    const refund = (body: unknown, key?: string) =>
      stack.api(
        'POST',
        `/v1/payments/${outTradeNo}/refunds`,
        body,
        key ? { 'idempotency-key': key } : {},
      );

    const noKey = await refund({ amount: '1.00' });
    assert.equal(noKey.status, 400);
    assert.equal(noKey.json.error.field, 'Idempotency-Key');
    const number = await refund({ amount: 1 }, 'R-N');
    assert.equal(number.status, 400);
    assert.equal(number.json.error.field, 'amount');
    const exponent = await refund({ amount: '1e2' }, 'R-E');
    assert.equal(exponent.status, 422);
    assert.equal(exponent.json.error.field, 'amount');
    const over = await refund({ amount: '10.01' }, 'R-O');
    assert.equal(over.status, 409);
    assert.match(over.json.error.message, /exceeds the refundable 10\.00 USD/);
    await assert.rejects(
      stack.engine.refund(outTradeNo, { refundId: 'R-C', amount: '1.00', currency: 'EUR' }),
      (err: unknown) =>
        err instanceof RequestRejectedError && err.kind === 'INVALID' && err.field === 'currency',
    );
    const unknown = await stack.api('GET', '/v1/payments/NO-SUCH-TRADE');
    assert.equal(unknown.status, 404);
    assert.equal((await stack.engine.getPayment(outTradeNo)).refundedMinor, 0);
    assert.equal(stack.sandbox.state.findTrade(outTradeNo)!['refunded_minor'], 0);
  });

  it('listing: malformed store IDs and page tokens are a 400 at once, tokens are bound to their listing', async () => {
    const nul = await stack.api('GET', '/v1/stores/%00/payments');
    assert.equal(nul.status, 400, JSON.stringify(nul.json));
    assert.equal(nul.json.error.field, 'storeId');
    const garbage = await stack.api('GET', `/v1/stores/${STORE}/payments?pageToken=AAAA`);
    assert.equal(garbage.status, 400, JSON.stringify(garbage.json));
    assert.equal(garbage.json.error.field, 'pageToken');
    const quote = await stack.api('GET', `/v1/stores/${STORE}/payments?pageToken=%22%3B--`);
    assert.equal(quote.status, 400);
    for (const res of [nul, garbage, quote])
      assert.doesNotMatch(JSON.stringify(res.json), /sql|syntax|token.*decode|grpc/i);
    // A real token pages on; the same token on another store's listing is refused.
    const first = await eventually(async () => {
      const page = await stack.api('GET', `/v1/stores/${STORE}/payments?pageSize=1`);
      return page.json.nextPageToken ? page.json : undefined;
    }, 'a first page with a next token');
    const token = encodeURIComponent(first.nextPageToken);
    const second = await stack.api(
      'GET',
      `/v1/stores/${STORE}/payments?pageSize=1&pageToken=${token}`,
    );
    assert.equal(second.status, 200, JSON.stringify(second.json));
    assert.equal(second.json.payments.length, 1);
    assert.notEqual(second.json.payments[0].outTradeNo, first.payments[0].outTradeNo);
    const elsewhere = await stack.api(
      'GET',
      `/v1/stores/S-OTHER/payments?pageSize=1&pageToken=${token}`,
    );
    assert.equal(elsewhere.status, 400);
    assert.equal(elsewhere.json.error.field, 'pageToken');
    const pageSize = await stack.api('GET', `/v1/stores/${STORE}/payments?pageSize=1000`);
    assert.equal(pageSize.status, 400);
    assert.equal(pageSize.json.error.field, 'pageSize');
  });

  it('cancel on the payment day through the API; a second cancel is a 409', async () => {
    const { outTradeNo } = await customerPays('4.00');
    await paymentReaches(outTradeNo, (s) => s.status === 'PAID');
    const cancelled = await stack.api('POST', `/v1/payments/${outTradeNo}/cancel`, {
      reason: 'wrong table',
    });
    // CANCEL only on the GMT+8 day: a test straddling Beijing midnight gets a refusal instead.
    if (cancelled.status === 200) {
      assert.equal(cancelled.json.status, 'CANCELLED');
      const again = await stack.api('POST', `/v1/payments/${outTradeNo}/cancel`, {});
      assert.equal(again.status, 409);
    } else {
      assert.equal(cancelled.status, 409);
    }
  });

  it('a counter order is settled by the matching payment; a different amount is reversed', async () => {
    const orders = `/v1/stores/${STORE}/codes/no-fee/expected-payments`;
    const expect = await stack.api('POST', orders, {
      orderId: 'T-88',
      amount: '8.80',
      currency: 'USD',
    });
    assert.equal(expect.status, 201, JSON.stringify(expect.json));
    const wrong = await customerPays('0.88'); // the customer typed the wrong amount
    const reversed = await paymentReaches(wrong.outTradeNo, (s) =>
      ['CANCELLED', 'REFUNDED'].includes(s.status),
    );
    assert.match(reversed.reversal!.reason, /paid 0\.88 USD, expected 8\.80 USD for order T-88/);
    const right = await customerPays('8.80');
    const paid = await paymentReaches(right.outTradeNo, (s) => s.status === 'PAID');
    assert.equal(paid.paid, '8.80');
    const code = await stack.api('GET', `/v1/stores/${STORE}/codes/no-fee`);
    assert.deepEqual(code.json.pendingOrders, []);
  });
});

describe('notifications', () => {
  it('duplicates make one payment, every copy is acknowledged', async () => {
    stack.sandbox.faults.add({ service: 'notification', kind: 'duplicate', copies: 3 });
    const { outTradeNo, record } = await customerPays('3.30');
    await paymentReaches(outTradeNo, (s) => s.status === 'PAID');
    // Three copies posted at once, each answered `success` (concurrent signal-with-starts).
    assert.deepEqual(
      record.attempts.map((a) => [a.kind, a.status, a.response]),
      [
        ['genuine', 200, 'success'],
        ['duplicate', 200, 'success'],
        ['duplicate', 200, 'success'],
      ],
    );
    // Alipay's retry of the same notification, byte for byte: answered exactly `success`.
    const again = await fetch(`${stack.http.url}/alipay/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: record.body,
    });
    assert.equal(again.status, 200);
    assert.deepEqual(Buffer.from(await again.arrayBuffer()), Buffer.from('success', 'ascii'));
    let runs = 0;
    for await (const _ of env.client.workflow.list({
      query: `WorkflowId = "${paymentWorkflowId(stack.engine.partnerId, outTradeNo)}"`,
    }))
      runs++;
    assert.equal(runs, 1);
  });

  it('a forged notification is refused with 403 and starts nothing', async () => {
    const forger = createMd5Signer('0'.repeat(32));
    const fields: Record<string, string> = {
      notify_id: 'forged-1',
      notify_time: '2026-11-27 12:00:00',
      notify_type: 'trade_status_sync',
      out_trade_no: 'FORGED-1',
      trade_no: '2026112722001300000000009999',
      trade_status: 'TRADE_SUCCESS',
      total_fee: '999.00',
      currency: 'USD',
    };
    const res = await fetch(`${stack.http.url}/alipay/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: buildNotificationBody(fields, forger, 'UTF-8'),
    });
    assert.equal(res.status, 403);
    assert.notEqual(await res.text(), 'success');
    await assert.rejects(
      env.client.workflow
        .getHandle(paymentWorkflowId(stack.engine.partnerId, 'FORGED-1'))
        .describe(),
      /not found/i,
    );
    const malformed = await fetch(`${stack.http.url}/alipay/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'notify_id=%ZZ&&=',
    });
    assert.equal(malformed.status, 400);
    const huge = await fetch(`${stack.http.url}/alipay/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `notify_id=1&body=${'x'.repeat(20_000)}`,
    });
    assert.equal(huge.status, 413);
    const metrics = await (await fetch(`${stack.http.adminUrl}/metrics`)).text();
    assert.match(
      metrics,
      /alipay_engine_notifications_rejected_total\{reason="BAD_SIGNATURE"\} [1-9]/,
    );
    assert.match(metrics, /alipay_engine_notifications_rejected_total\{reason="TOO_LARGE"\} [1-9]/);
  });
});

describe('operations', () => {
  it('health on both listeners; readiness and metrics on the admin listener only', async () => {
    assert.equal((await fetch(`${stack.http.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${stack.http.adminUrl}/healthz`)).status, 200);
    assert.equal((await fetch(`${stack.http.url}/metrics`)).status, 404);
    assert.equal((await fetch(`${stack.http.url}/readyz`)).status, 404);
    assert.notEqual(new URL(stack.http.adminUrl).port, new URL(stack.http.url).port);
    const ready = await fetch(`${stack.http.adminUrl}/readyz`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { checks: { temporal: { ok: boolean } } };
    assert.equal(body.checks.temporal.ok, true);
    const metrics = await (await fetch(`${stack.http.adminUrl}/metrics`)).text();
    assert.match(metrics, /alipay_engine_notifications_received_total [1-9]/);
    assert.match(
      metrics,
      /alipay_engine_gateway_calls_total\{service="QUERY",outcome="ok"\} [1-9]/,
    );
    assert.match(metrics, /alipay_engine_payments\{status="PAID"\} [1-9]/);
  });
});

describe('API description', () => {
  it('serves the OpenAPI 3 document generated from the routes, and a reference page, without a key', async () => {
    const res = await fetch(`${stack.http.url}/v1/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          {
            parameters?: Array<{ name: string; in: string }>;
            requestBody?: unknown;
            responses: Record<string, unknown>;
          }
        >
      >;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    };
    assert.match(doc.openapi, /^3\./);
    const refunds = doc.paths['/v1/payments/{outTradeNo}/refunds']?.post;
    assert.ok(refunds, Object.keys(doc.paths).join(', '));
    assert.ok(refunds.requestBody);
    assert.ok(refunds.parameters?.some((p) => p.in === 'header' && p.name === 'idempotency-key'));
    assert.deepEqual(Object.keys(refunds.responses).sort(), [
      '201',
      '202',
      '400',
      '401',
      '403',
      '404',
      '409',
      '422',
      '429',
      '502',
      '503',
    ]);
    for (const path of [
      '/v1/codes',
      '/v1/stores/{storeId}/payments',
      '/v1/payments/{outTradeNo}/refunds/{refundId}',
    ])
      assert.ok(doc.paths[path], path);
    for (const name of ['Payment', 'Refund', 'Code', 'Error'])
      assert.ok(doc.components.schemas[name], name);
    assert.ok(doc.components.securitySchemes.bearer);
    // The notification receiver and the probes are not part of the merchant API.
    assert.equal(doc.paths['/alipay/notify'], undefined);
    assert.equal(doc.paths['/healthz'], undefined);
    const page = await fetch(`${stack.http.url}/v1/docs/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /swagger-ui/i);
  });

  it('rejects a QR picture over the size cap with a 400 naming size', async () => {
    const big = await stack.api('GET', `/v1/stores/${STORE}/codes/no-fee/qr.png?size=4096`);
    assert.equal(big.status, 400);
    assert.equal(big.json.error.field, 'size');
  });
});
