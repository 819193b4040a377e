/**
 * `npm run demo`: a tour of the running engine (`npm start` in another terminal), as a merchant
 * and a customer would drive it. The merchant uses the HTTP API only; the customer is the
 * sandbox's `/sandbox/pay` (scanning the code and typing an amount in the Alipay app).
 *
 *   1. create the store's code (get-or-create) and print where its printable picture is
 *   2. two customers pay it
 *   3. one payment is refunded partially, twice (Idempotency-Key = refund ID)
 *   4. the till expects 8.80 for an order, the customer types 0.88: the engine cancels it at
 *      Alipay by itself; the customer pays 8.80 and the order is settled
 *   5. where to look in the Temporal Web UI
 *
 * Env: ENGINE_URL (http://127.0.0.1:8080), ENGINE_ADMIN_URL (http://127.0.0.1:8081),
 * SANDBOX_URL (http://127.0.0.1:8710), MERCHANT_API_KEY (the sandbox default key),
 * TEMPORAL_UI_URL (http://localhost:8233).
 */
import { DEFAULT_SANDBOX_API_KEY } from '../src/config';
import { paymentWorkflowId } from '../src/workflows/payment-types';
import type { PaymentState, RefundEntry } from '../src/client';

const ENGINE = process.env.ENGINE_URL ?? 'http://127.0.0.1:8080';
const ADMIN = process.env.ENGINE_ADMIN_URL ?? 'http://127.0.0.1:8081';
const SANDBOX = process.env.SANDBOX_URL ?? 'http://127.0.0.1:8710';
const KEY = process.env.MERCHANT_API_KEY ?? DEFAULT_SANDBOX_API_KEY;
const UI = process.env.TEMPORAL_UI_URL ?? 'http://localhost:8233';
const STORE = 'S-DEMO';

async function call<T>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: T; headers: Headers }> {
  const res = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${KEY}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  if (res.status >= 400) {
    throw new Error(`${method} ${url} -> ${res.status} ${text.slice(0, 300)}`);
  }
  return { status: res.status, json: json as T, headers: res.headers };
}

const api = <T>(method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  call<T>(method, `${ENGINE}${path}`, body, headers);

/** The customer scans the code and pays `amount`; answers Alipay's out_trade_no. */
async function customerPays(qrcode: string, amount: string): Promise<string> {
  const { json } = await call<{ out_trade_no: string }>('POST', `${SANDBOX}/sandbox/pay`, {
    qrcode,
    amount,
  });
  return json.out_trade_no;
}

async function waitForPayment(
  outTradeNo: string,
  done: (s: PaymentState) => boolean,
): Promise<PaymentState> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(`${ENGINE}/v1/payments/${outTradeNo}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    if (res.status === 200) {
      const state = (await res.json()) as PaymentState;
      if (done(state)) return state;
    }
    if (Date.now() > deadline) throw new Error(`payment ${outTradeNo} did not get there in 60 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function step(title: string): void {
  console.log(`\n== ${title}`);
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(
      'usage: npm run demo   (needs `npm start` running; env ENGINE_URL, ENGINE_ADMIN_URL, SANDBOX_URL, MERCHANT_API_KEY, TEMPORAL_UI_URL)',
    );
    return;
  }
  // Readiness is an operator route: the admin listener answers it, not the public one.
  const ready = await fetch(`${ADMIN}/readyz`).catch(() => undefined);
  if (!ready || ready.status !== 200) {
    throw new Error(
      `the engine is not ready (admin listener ${ADMIN}): start it first with \`npm start\``,
    );
  }
  console.log(`engine ${ENGINE}   admin listener ${ADMIN} (/readyz, /metrics)`);
  console.log(`API reference ${ENGINE}/v1/docs   OpenAPI ${ENGINE}/v1/openapi.json`);

  step(`1. The store's code (POST /v1/codes, get-or-create)`);
  const code = await api<{ qrcode: string; status: string; pendingOrders: { orderId: string }[] }>(
    'POST',
    '/v1/codes',
    {
      secondaryMerchantId: 'M-DEMO',
      secondaryMerchantName: 'Demo Noodle Bar',
      merchantCategoryCode: '5812',
      storeId: STORE,
      storeName: 'Demo Noodle Bar, Causeway Bay',
      pricingCurrency: 'USD',
      settlementCurrency: 'USD',
    },
  );
  const { qrcode } = code.json;
  console.log(
    `${code.status === 201 ? 'created' : 'already there'}: ${qrcode} (${code.json.status})`,
  );
  console.log(`printable: curl -H 'Authorization: Bearer ${KEY}' -o code.png \\
  ${ENGINE}/v1/stores/${STORE}/codes/no-fee/qr.png`);
  // A previous run stopped half-way may have left an order waiting at the till.
  for (const order of code.json.pendingOrders) {
    await api('DELETE', `/v1/stores/${STORE}/codes/no-fee/expected-payments/${order.orderId}`);
  }

  step('2. Two customers pay the code');
  const first = await customerPays(qrcode, '12.00');
  const second = await customerPays(qrcode, '30.00');
  for (const outTradeNo of [first, second]) {
    const s = await waitForPayment(outTradeNo, (p) => p.status === 'PAID');
    console.log(`${outTradeNo}: ${s.status} ${s.paid} ${s.currency}`);
  }

  step(`3. Two partial refunds of ${second} (POST /v1/payments/:id/refunds)`);
  const run = Date.now().toString(36);
  for (const [amount, reason] of [
    ['5.00', 'one dish sent back'],
    ['7.50', 'service charge waived'],
  ] as const) {
    const refundId = `R-${run}-${amount.replace('.', '')}`;
    const { json } = await api<RefundEntry>(
      'POST',
      `/v1/payments/${second}/refunds`,
      { amount, reason },
      { 'idempotency-key': refundId },
    );
    console.log(`refund ${json.refundId}: ${json.amount} ${json.currency} ${json.status}`);
  }
  // The same request again (a retry after a timeout, say): the first refund, marked a replay.
  const repeatId = `R-${run}-500`;
  const again = await api<RefundEntry>(
    'POST',
    `/v1/payments/${second}/refunds`,
    { amount: '5.00', reason: 'one dish sent back' },
    { 'idempotency-key': repeatId },
  );
  console.log(
    `repeat of ${repeatId}: ${again.status} ${again.json.status}, Idempotent-Replayed: ${again.headers.get('idempotent-replayed')} (nothing refunded twice)`,
  );
  const refunded = (await api<PaymentState>('GET', `/v1/payments/${second}`)).json;
  console.log(
    `${second}: ${refunded.status}, refunded ${refunded.refunded}, refundable ${refunded.refundable} ${refunded.currency}`,
  );

  step('4. The till expects 8.80; the customer types 0.88');
  const orderId = `ORDER-${run}`;
  await api('POST', `/v1/stores/${STORE}/codes/no-fee/expected-payments`, {
    orderId,
    amount: '8.80',
    currency: 'USD',
  });
  const wrong = await customerPays(qrcode, '0.88');
  const reversed = await waitForPayment(wrong, (p) =>
    ['CANCELLED', 'REFUNDED', 'FAILED_NEEDS_OPERATOR'].includes(p.status),
  );
  console.log(`${wrong}: ${reversed.status} by ${reversed.reversal?.method ?? '?'}`);
  console.log(`  why: ${reversed.reversal?.reason ?? reversed.operatorReason ?? '?'}`);
  const right = await customerPays(qrcode, '8.80');
  const settled = await waitForPayment(right, (p) => p.status === 'PAID');
  console.log(`${right}: ${settled.status} ${settled.paid} ${settled.currency} (order ${orderId})`);

  step('5. In the Temporal Web UI');
  const list = (query: string) =>
    `${UI}/namespaces/default/workflows?query=${encodeURIComponent(query)}`;
  const open = (outTradeNo: string) =>
    `${UI}/namespaces/default/workflows/${encodeURIComponent(paymentWorkflowId(refunded.partnerId, outTradeNo))}`;
  console.log(`all payments of the store:   ${list(`AlipayStoreId = "${STORE}"`)}`);
  console.log(`partly refunded:             ${list('PaymentStatus = "PARTIALLY_REFUNDED"')}`);
  console.log(`reversed automatically:      ${list('PaymentStatus = "CANCELLED"')}`);
  console.log(`the refunded payment:        ${open(second)}`);
  console.log(`the cancelled payment:       ${open(wrong)}`);
  console.log(
    `the store's code:            ${UI}/namespaces/default/workflows/${encodeURIComponent(`qrcode/${refunded.partnerId}/${STORE}/no-fee`)}`,
  );
  console.log(
    '\nOpen a payment: "User Metadata" has its summary, the Queries tab runs `state`, the',
  );
  console.log('event history names every Alipay call (QUERY, CANCEL, REFUND).');
}

main().catch((err: unknown) => {
  console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
