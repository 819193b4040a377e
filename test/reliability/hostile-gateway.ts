import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { request } from 'undici';
import { createMd5Signer } from '../../src/alipay';
import { AlipayServiceError } from '../../src/alipay/errors';
import { parseGatewayXml, renderGatewayResponse } from '../../src/alipay/xml';
import { MONEY_REFUSED_FOR_SURE } from '../../src/workflows/payment-types';
import { gatewayFor, storeInput } from '../sandbox/client';
import { assertNoSecret, check } from './hostile-support';
import type { ReliabilityStack } from './stack';
import type { Row } from './tally';

/**
 * Hostile gateway answers against the engine's gateway client: a man in the middle between the
 * client and Alipay (the sandbox) forwards every call and rewrites the genuine answer: XXE,
 * entity expansion, DOCTYPE, deep nesting, huge bodies, unsigned success, answers signed with
 * another key, signed answers of another call, single-bit flips. A call may only succeed with
 * exactly the facts of the genuine answer; everything else is a typed gateway error, in bounded
 * time, without a crash and without a secret in the error.
 */

type Rewrite = (genuine: Buffer) => Buffer;

interface Mitm {
  url: string;
  /** How the next answers are rewritten (identity when unset). */
  rewrite: Rewrite | undefined;
  /** Signatures of the requests seen (they must not appear in errors). */
  requestSigns: Set<string>;
  close(): Promise<void>;
}

async function startMitm(gatewayUrl: string): Promise<Mitm> {
  const mitm: Mitm = {
    url: '',
    rewrite: undefined,
    requestSigns: new Set(),
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const sign = /(?:^|[?&])sign=([0-9a-fA-F]{32})/.exec(
        `${req.url ?? ''}&${body.toString('latin1')}`,
      )?.[1];
      if (sign) mitm.requestSigns.add(sign);
      const target = new URL(req.url ?? '/', gatewayUrl);
      void request(`${new URL(gatewayUrl).origin}${target.pathname}${target.search}`, {
        method: (req.method ?? 'POST') as 'POST',
        headers: {
          'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded',
        },
        body: req.method === 'GET' ? undefined : body,
      })
        .then(async (answer) => {
          const genuine = Buffer.from(await answer.body.arrayBuffer());
          const out = mitm.rewrite ? mitm.rewrite(genuine) : genuine;
          res.writeHead(200, {
            'content-type': String(answer.headers['content-type'] ?? 'text/xml; charset=UTF-8'),
          });
          res.end(out);
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  mitm.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gateway.do`;
  mitm.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return mitm;
}

const text = (b: Buffer) => b.toString('utf8');
const withBody = (genuine: Buffer, f: (s: string) => string) =>
  Buffer.from(f(text(genuine)), 'utf8');

export async function hostileGateway(stack: ReliabilityStack, row: Row): Promise<void> {
  const direct = gatewayFor(stack.sandbox);
  const mitm = await startMitm(stack.sandbox.gatewayUrl);
  const gateway = gatewayFor(stack.sandbox, { gatewayUrl: mitm.url });
  try {
    const { qrcode } = await direct.createQrCode(storeInput('S-GATEWAY'));
    const trade = stack.sandbox.pay({ qrcode, amount: '500.00' }).trade;
    const ref = { outTradeNo: trade.outTradeNo };
    const refundInput = {
      ...ref,
      refundId: 'GW-REFUND-1',
      amount: { minor: 100, currency: 'USD' },
    };

    // Positive controls (through the untouched man in the middle): the genuine facts.
    const genuineRefund = await gateway.refund(refundInput);
    const genuineQuery = await gateway.queryTrade(ref);
    // Genuine signed answers of other calls, captured to be replayed where they do not belong.
    let captured: Buffer | undefined;
    mitm.rewrite = (g) => ((captured = g), g);
    await gateway.queryTrade(ref);
    const queryAnswer = captured!;
    await gateway.refund({
      ...refundInput,
      refundId: 'GW-REFUND-2',
      amount: { minor: 200, currency: 'USD' },
    });
    const otherRefundAnswer = captured!;
    mitm.rewrite = undefined;
    const other = createMd5Signer('0123456789abcdef0123456789abcdef');

    let forgedRefusals = 0;
    const secrets = () => [...stack.secrets, ...mitm.requestSigns];
    /** One call under `rewrite`: resolves only with the genuine facts, else a typed error in time. */
    const attempt = async (
      call: 'refund' | 'query',
      rewrite: Rewrite,
      label: string,
      forged = false,
    ) => {
      row.fuzzCases += 1;
      mitm.rewrite = rewrite;
      const started = Date.now();
      const outcome = await Promise.race([
        (call === 'refund' ? gateway.refund(refundInput) : gateway.queryTrade(ref)).then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        ),
        new Promise<{ timeout: true }>((r) => setTimeout(() => r({ timeout: true }), 10_000)),
      ]);
      mitm.rewrite = undefined;
      assert.ok(!('timeout' in outcome), `${label}: no answer within 10 s`);
      if ('value' in outcome) {
        const expected = call === 'refund' ? genuineRefund : genuineQuery;
        if (JSON.stringify(outcome.value) !== JSON.stringify(expected)) row.forgedAccepted += 1;
        assert.deepEqual(
          outcome.value,
          expected,
          `${label}: succeeded with other facts than Alipay's`,
        );
        return 'resolved';
      }
      const err = outcome.error as Error;
      assert.ok(err instanceof AlipayServiceError, `${label}: untyped failure ${String(err)}`);
      assertNoSecret(`${err.message} ${JSON.stringify(err)}`, secrets(), `${label} error`);
      if (forged && MONEY_REFUSED_FOR_SURE.includes(err.name)) forgedRefusals += 1;
      assert.ok(Date.now() - started < 10_000);
      return err.name;
    };

    const business = parseGatewayXml(queryAnswer).business!;
    const named: Array<[string, 'refund' | 'query', Rewrite, boolean]> = [
      [
        'XXE',
        'refund',
        (g) =>
          withBody(g, (s) =>
            s
              .replace(
                /<alipay>/,
                '<!DOCTYPE alipay [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><alipay>',
              )
              .replace('<result_code>SUCCESS', '<result_code>&xxe;SUCCESS'),
          ),
        false,
      ],
      [
        'entity expansion',
        'query',
        () =>
          Buffer.from(
            `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('')}]><alipay><is_success>T</is_success><x>&lol9;</x></alipay>`,
          ),
        false,
      ],
      [
        'DOCTYPE',
        'refund',
        (g) => withBody(g, (s) => s.replace(/<alipay>/, '<!DOCTYPE alipay><alipay>')),
        false,
      ],
      [
        'deep nesting',
        'query',
        (g) =>
          withBody(g, (s) =>
            s.replace('</response>', `${'<a>'.repeat(30_000)}${'</a>'.repeat(30_000)}</response>`),
          ),
        false,
      ],
      [
        'deep nesting, unclosed',
        'refund',
        () => Buffer.from(`<?xml version="1.0"?><alipay>${'<a>'.repeat(200_000)}`),
        false,
      ],
      [
        'huge',
        'query',
        (g) =>
          Buffer.concat([
            g.subarray(0, 60),
            Buffer.from(`<!-- ${'x'.repeat(2_000_000)} -->`),
            g.subarray(60),
          ]),
        false,
      ],
      [
        'unsigned success',
        'refund',
        (g) =>
          withBody(g, (s) =>
            s.replace(/<sign>[^<]*<\/sign>/, '').replace(/<sign_type>[^<]*<\/sign_type>/, ''),
          ),
        true,
      ],
      [
        'empty signature',
        'query',
        (g) => withBody(g, (s) => s.replace(/<sign>[^<]*<\/sign>/, '<sign></sign>')),
        true,
      ],
      [
        'signed with another key',
        'refund',
        (g) =>
          Buffer.from(
            renderGatewayResponse({
              request: parseGatewayXml(g).request,
              business: parseGatewayXml(g).business,
              signer: other,
            }),
          ),
        true,
      ],
      ['signed answer of another service (QUERY for a REFUND)', 'refund', () => queryAnswer, true],
      ['signed answer of another refund', 'refund', () => otherRefundAnswer, true],
      [
        'signed answer of another service (REFUND for a QUERY)',
        'query',
        () => otherRefundAnswer,
        true,
      ],
      [
        'other trade, signed with another key',
        'query',
        () =>
          Buffer.from(
            renderGatewayResponse({
              business: { ...business, out_trade_no: '9999' },
              signer: other,
            }),
          ),
        true,
      ],
      ['empty body', 'refund', () => Buffer.alloc(0), false],
      ['HTML', 'query', () => Buffer.from('<html><body>502 Bad Gateway</body></html>'), false],
      ['JSON', 'refund', () => Buffer.from('{"is_success":"T","result_code":"SUCCESS"}'), false],
      ['truncated', 'refund', (g) => g.subarray(0, Math.floor(g.length / 2)), false],
      [
        'two roots',
        'query',
        (g) => Buffer.concat([g, Buffer.from('<alipay><is_success>T</is_success></alipay>')]),
        false,
      ],
      [
        'second business node',
        'refund',
        (g) =>
          withBody(g, (s) =>
            s.replace(
              '</response>',
              '<alipay><result_code>SUCCESS</result_code><refund_amount>500.00</refund_amount></alipay></response>',
            ),
          ),
        true,
      ],
      ['UTF-16', 'query', (g) => Buffer.from(text(g).replace('UTF-8', 'UTF-16'), 'utf16le'), false],
      [
        'processing instruction',
        'query',
        (g) =>
          withBody(g, (s) =>
            s.replace('<alipay>', '<?xml-stylesheet href="http://127.0.0.1:1/x"?><alipay>'),
          ),
        false,
      ],
      [
        'CDATA amount',
        'refund',
        (g) =>
          withBody(g, (s) =>
            s.replace(/<refund_amount>[^<]*</, '<refund_amount><![CDATA[500.00]]><'),
          ),
        true,
      ],
    ];
    for (const [label, call, rewrite, forged] of named) await attempt(call, rewrite, label, forged);

    await check(
      'single-bit flips of genuine gateway answers',
      fc.tuple(fc.constantFrom<'refund' | 'query'>('refund', 'query'), fc.nat(), fc.nat(7)),
      300,
      async ([call, pos, bit]) => {
        await attempt(
          call,
          (g) => {
            const b = Buffer.from(g);
            const at = pos % b.length;
            b[at] = b[at]! ^ (1 << bit);
            return b;
          },
          `bit ${bit} of byte ${pos} (${call})`,
        );
      },
    );
    await check(
      'random answers',
      fc.oneof(
        fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
        fc
          .string({ maxLength: 500 })
          .map((s) => Buffer.from(`<?xml version="1.0"?><alipay>${s}</alipay>`)),
      ),
      150,
      async (answer) => {
        await attempt('refund', () => answer, 'random answer', true);
      },
    );
    // Still healthy afterwards: the genuine answer is taken again.
    assert.deepEqual(await gateway.refund(refundInput), genuineRefund);
    const refunds = stack.sandbox.state
      .refunds()
      .filter((r) => r['partner_trans_id'] === trade.outTradeNo);
    assert.deepEqual(
      refunds.map((r) => r['refund_amount']).sort(),
      ['1.00', '2.00'],
      'Alipay refunded each ID once',
    );
    console.log(
      `hostile gateway answers: ${row.fuzzCases} calls, ${forgedRefusals} forged or unsigned answers taken as "refused for sure"`,
    );
  } finally {
    await gateway.close();
    await direct.close();
    await mitm.close();
  }
}
