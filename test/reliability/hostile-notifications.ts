import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildNotificationBody, createMd5Signer } from '../../src/alipay';
import { encodeForm } from '../../src/alipay/form';
import { DEFAULT_SANDBOX_MD5_KEY } from '../../src/sandbox';
import type { PaymentState } from '../../src/workflows/payment-types';
import { createStore, customerPays, notificationsSettle, paymentsReach } from './flows';
import {
  assertNoSecret,
  check,
  declaredCharset,
  decodeForm,
  sameSignedContent,
} from './hostile-support';
import type { ReliabilityStack } from './stack';
import type { Row } from './tally';

/**
 * Hostile notifications at `POST /alipay/notify`: random bodies, single-bit flips of genuinely
 * signed ones, altered values, charset mix-ups, duplicate keys, oversize bodies. Nothing whose
 * signed content differs from a genuine notification may be answered `success`; bad input never
 * gets a 5xx; refused requests change nothing; no answer carries a secret or a signature.
 */

interface Base {
  body: Buffer;
  contentType: string;
  /** The genuinely signed fields' bytes (latin1), as decoded independently. */
  fields: Record<string, string>;
  /** The same fields as text (decoded in the body's charset). */
  text: Record<string, string>;
}

/** Signatures the suite sent: no answer and no log line may repeat them. */
export const sentSignatures = new Set<string>();

const UTF8 = 'application/x-www-form-urlencoded; charset=utf-8';
const CONTENT_TYPES = [
  undefined,
  'application/x-www-form-urlencoded',
  UTF8,
  'application/x-www-form-urlencoded; charset=GBK',
  'application/x-www-form-urlencoded; charset=gb2312',
  'application/x-www-form-urlencoded; charset=latin1',
  'application/x-www-form-urlencoded; charset=utf-16',
  'application/x-www-form-urlencoded; charset="x-unknown"',
  'text/plain',
  'application/json',
  'multipart/form-data; boundary=xyz',
];
const FIELD_NAMES = [
  'notify_id',
  'notify_time',
  'notify_type',
  'out_trade_no',
  'trade_no',
  'trade_status',
  'total_fee',
  'currency',
  'partner',
  'sign',
  'sign_type',
  '__proto__',
  'constructor',
];

/** A well-shaped MD5 signature (32 hex digits). */
const hex32 = fc.string({
  unit: fc.constantFrom(...'0123456789abcdef'),
  minLength: 32,
  maxLength: 32,
});

function baseOf(body: Buffer, contentType: string): Base {
  const decoded = decodeForm(body, contentType);
  assert.ok(decoded, 'a genuine body decodes');
  const fields = Object.fromEntries([...decoded.fields].map(([k, v]) => [k, v[0]!]));
  const charset = declaredCharset(contentType)!;
  const text = Object.fromEntries(
    Object.entries(fields).map(([k, v]) => [
      k,
      new TextDecoder(charset).decode(Buffer.from(v, 'latin1')),
    ]),
  );
  sentSignatures.add(fields['sign']!);
  return { body, contentType, fields, text };
}

export async function hostileNotifications(stack: ReliabilityStack, row: Row): Promise<void> {
  const qrcode = await createStore(stack, 'S-HOSTILE-N');
  const paid = ['12.34', '56.78', '0.01'].map((a) => customerPays(stack, qrcode, a));
  const records = await notificationsSettle(
    stack,
    paid.map((p) => p.notifyId!),
    60_000,
  );
  const ids = paid.map((p) => p.trade.outTradeNo);
  const before = await paymentsReach(stack, ids, (s) => s.status === 'PAID', 60_000);
  for (const id of ids) assert.equal(before.get(id)?.status, 'PAID');

  const md5 = createMd5Signer(DEFAULT_SANDBOX_MD5_KEY);
  const bases: Base[] = records.map((r) => baseOf(Buffer.from(r.body, 'latin1'), UTF8));
  // Genuinely signed, with non-ASCII content, in both charsets (a field the engine ignores).
  const extra = (r: (typeof records)[number]) => {
    const { sign: _s, sign_type: _t, ...fields } = r.fields as Record<string, string>;
    return { ...fields, body: '咖啡 two coffees' };
  };
  bases.push(
    baseOf(
      buildNotificationBody(extra(records[0]!), md5, 'GBK'),
      'application/x-www-form-urlencoded; charset=GBK',
    ),
  );
  bases.push(baseOf(buildNotificationBody(extra(records[1]!), md5, 'UTF-8'), UTF8));

  const url = `${stack.httpUrl}/alipay/notify`;
  const post = async (body: Buffer, contentType: string | undefined) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: contentType === undefined ? {} : { 'content-type': contentType },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, text: await res.text() };
  };

  // Positive control: the genuine bodies themselves are acknowledged (the oracle is not vacuous).
  for (const b of bases) {
    const res = await post(b.body, b.contentType);
    row.operations += 1;
    assert.deepEqual(
      [res.status, res.text],
      [200, 'success'],
      'a genuine notification is acknowledged',
    );
  }

  const refusedTrades = new Set<string>();
  const secrets = [...stack.secrets, ...sentSignatures];
  /** Sends one hostile body and checks every property; `base` is what it was made from. */
  const judge = async (body: Buffer, contentType: string | undefined, base: Base | undefined) => {
    row.fuzzCases += 1;
    const genuine =
      base !== undefined && sameSignedContent(decodeForm(body, contentType), base.fields);
    const res = await post(body, contentType);
    assertNoSecret(res.text, secrets, 'a notification answer');
    if (genuine) {
      assert.ok(
        res.status === 200 || res.status === 503 || res.status < 500,
        `genuine content: ${res.status}`,
      );
      return;
    }
    if (res.status >= 500) row.serverErrorsOnBadInput += 1;
    if (res.text === 'success') row.forgedAccepted += 1;
    assert.ok(
      res.status >= 400 && res.status < 500 && res.text !== 'success',
      `hostile body answered ${res.status} ${JSON.stringify(res.text)}: ${JSON.stringify(body.subarray(0, 300).toString('latin1'))} (${contentType})`,
    );
    const fields = decodeForm(body, contentType)?.fields;
    const outTradeNo = fields?.get('out_trade_no')?.[0];
    if (outTradeNo && !ids.includes(outTradeNo) && refusedTrades.size < 40)
      refusedTrades.add(outTradeNo);
  };

  const baseArb = fc.nat(bases.length - 1).map((i) => bases[i]!);

  await check(
    'random notification bodies',
    fc.tuple(
      fc.oneof(
        fc.uint8Array({ maxLength: 1024 }).map((b) => Buffer.from(b)),
        fc
          .array(
            fc.tuple(
              fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 12 })),
              fc.oneof(fc.string({ maxLength: 40 }), hex32),
            ),
            { maxLength: 24 },
          )
          .map((pairs) =>
            Buffer.from(
              pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'),
              'latin1',
            ),
          ),
      ),
      fc.constantFrom(...CONTENT_TYPES),
    ),
    250,
    ([body, contentType]) => judge(body, contentType, undefined),
  );

  await check(
    'single-bit flips of signed bodies',
    fc.tuple(baseArb, fc.nat(), fc.nat(7)),
    500,
    ([base, pos, bit]) => {
      const body = Buffer.from(base.body);
      const at = pos % body.length;
      body[at] = body[at]! ^ (1 << bit);
      return judge(body, base.contentType, base);
    },
  );

  await check(
    'altered values under a genuine signature',
    fc.tuple(
      baseArb,
      fc.nat(),
      fc.oneof(
        fc.string({ maxLength: 24 }),
        fc.constantFrom(
          '0.01',
          '99999.99',
          '12.340',
          '1e3',
          'TRADE_FINISHED',
          'TRADE_CLOSED',
          'CNY',
          ' ',
          '',
          ids[0]!,
          ids[1]!,
        ),
      ),
    ),
    200,
    ([base, which, value]) => {
      const keys = Object.keys(base.fields).filter((k) => k !== 'sign' && k !== 'sign_type');
      const key = keys[which % keys.length]!;
      const pairs = Object.entries(base.fields).map(
        ([k, v]) => [k, k === key ? value : v] as const,
      );
      const charset = base.contentType.includes('GBK') ? 'GBK' : 'UTF-8';
      let body: string;
      try {
        body = encodeForm(pairs, charset);
      } catch {
        return Promise.resolve(); // a value GBK cannot carry: not a body anyone can send
      }
      return judge(Buffer.from(body, 'latin1'), base.contentType, base);
    },
  );

  await check(
    'charset mix-ups',
    fc.tuple(
      fc.constantFrom(bases.at(-2)!, bases.at(-1)!),
      fc.constantFrom(...CONTENT_TYPES),
      fc.boolean(),
    ),
    60,
    ([base, contentType, recode]) => {
      // As sent (bytes of one charset declared as another), or the values re-encoded in the
      // other charset under the same signature.
      const other = base.contentType.includes('GBK') ? 'UTF-8' : 'GBK';
      let body = base.body;
      if (recode) {
        try {
          body = Buffer.from(encodeForm(Object.entries(base.text), other), 'latin1');
        } catch {
          return Promise.resolve(); // text the other charset cannot carry
        }
      }
      return judge(body, contentType, base);
    },
  );

  await check(
    'duplicate keys',
    fc.tuple(baseArb, fc.nat(), fc.oneof(fc.string({ maxLength: 20 }), hex32), fc.boolean()),
    120,
    ([base, which, value, prepend]) => {
      const keys = Object.keys(base.fields);
      const key = keys[which % keys.length]!;
      const dup = `${encodeURIComponent(key)}=${encodeURIComponent(value)}`;
      const text = base.body.toString('latin1');
      return judge(
        Buffer.from(prepend ? `${dup}&${text}` : `${text}&${dup}`, 'latin1'),
        base.contentType,
        base,
      );
    },
  );

  await check(
    'oversize bodies',
    fc.tuple(baseArb, fc.integer({ min: 16 * 1024, max: 300_000 })),
    20,
    async ([base, size]) => {
      const body = Buffer.concat([base.body, Buffer.from(`&pad=${'x'.repeat(size)}`, 'latin1')]);
      row.fuzzCases += 1;
      const res = await post(body, base.contentType);
      if (res.status >= 500) row.serverErrorsOnBadInput += 1;
      if (res.text === 'success') row.forgedAccepted += 1;
      assert.equal(res.status, 413, `oversize ${body.length} bytes: ${res.status}`);
    },
  );

  // Refused requests changed nothing: the real payments are as before, no fake trade exists.
  const after = await paymentsReach(stack, ids, () => true, 30_000);
  const essence = (s: PaymentState | undefined) =>
    s && {
      status: s.status,
      paid: s.paidMinor,
      refunded: s.refundedMinor,
      refunds: s.refunds.length,
      notifyIds: s.notifyIds,
    };
  for (const id of ids)
    assert.deepEqual(essence(after.get(id)), essence(before.get(id)), `payment ${id} unchanged`);
  for (const id of refusedTrades) {
    const res = await stack.api('GET', `/v1/payments/${encodeURIComponent(id)}`);
    assert.ok(
      res.status === 404 || res.status === 400,
      `refused notification for ${id} left a payment (${res.status})`,
    );
  }
  assert.ok(
    stack.http.alive() && stack.worker.alive(),
    'no crash: the HTTP service and the worker still run',
  );
  console.log(
    `hostile notifications: ${row.fuzzCases} cases, ${refusedTrades.size} fake trades checked absent`,
  );
}

/**
 * A genuinely signed notification of a trade Alipay does not know (a leaked key, a replay from
 * another environment): acknowledged, and the payment ends REJECTED without any money moving
 * (issue 10). Sent at the start of the suite: the engine asks Alipay for about a minute before it
 * concludes the trade does not exist.
 */
export async function sendUnknownTrade(stack: ReliabilityStack): Promise<string> {
  const outTradeNo = `UNKNOWN-${Date.now()}`;
  const fields = {
    notify_id: `unknown-${Date.now()}`,
    notify_time: '2026-11-30 12:00:00',
    notify_type: 'trade_status_sync',
    partner: stack.partnerId,
    trade_no: '2026113022001300009999999999',
    out_trade_no: outTradeNo,
    trade_status: 'TRADE_SUCCESS',
    total_fee: '88.00',
    currency: 'USD',
  };
  const body = buildNotificationBody(fields, createMd5Signer(DEFAULT_SANDBOX_MD5_KEY), 'UTF-8');
  sentSignatures.add(new URLSearchParams(body.toString('latin1')).get('sign')!);
  const res = await fetch(`${stack.httpUrl}/alipay/notify`, {
    method: 'POST',
    headers: { 'content-type': UTF8 },
    body,
  });
  assert.deepEqual(
    [res.status, await res.text()],
    [200, 'success'],
    'a genuinely signed notification is acknowledged',
  );
  return outTradeNo;
}

export async function unknownTradeRejected(
  stack: ReliabilityStack,
  outTradeNo: string,
  row: Row,
): Promise<void> {
  const states = await paymentsReach(stack, [outTradeNo], (s) => s.status === 'REJECTED', 120_000);
  const s = states.get(outTradeNo);
  row.operations += 1;
  assert.deepEqual(
    s && {
      status: s.status,
      paid: s.paidMinor,
      refundable: s.refundableMinor,
      refunds: s.refunds.length,
    },
    { status: 'REJECTED', paid: 0, refundable: 0, refunds: 0 },
    `a notification of a trade Alipay does not know: ${JSON.stringify(s && { status: s.status, reversal: s.reversal })}`,
  );
  assert.equal(stack.sandbox.state.findTrade(outTradeNo), undefined);
}
