import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createMd5Signer, createRsaSigner } from '../../src/alipay/signing';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { formatGmt8 } from '../../src/time';
import { bizData, call, md5, PARTNER, S, stamp } from './support';

/** The sandbox refuses at gateway level (`is_success=F`) what Alipay would refuse. */
describe('sandbox gateway checks', () => {
  let sandbox: Sandbox;
  const alipayKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const merchantKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const RSA_PARTNER = '2088202233347352';

  before(async () => {
    sandbox = await startSandbox({
      partners: [
        { partner: PARTNER, md5Key: 'mk1x9sdm2qv8t0rbz7yh3c5lw4jf6pe0' },
        {
          partner: RSA_PARTNER,
          alipayPrivateKey: alipayKeys.privateKey,
          merchantPublicKey: merchantKeys.publicKey,
        },
      ],
    });
  });
  after(() => sandbox.close());

  const query = { service: S.QUERY, partner_trans_id: 'NOPE-1' };

  it('answers a well-signed call with a signed T envelope (GET and POST)', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const res = await call(sandbox, query, { method });
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-type']), /^text\/xml; charset=UTF-8/);
      assert.equal(res.envelope?.isSuccess, true);
      assert.equal(res.business.result_code, 'FAIL');
      assert.equal(res.business.error, 'TRADE_NOT_EXIST');
      assert.equal(res.signatureValid, true, 'the business node is signed with the MD5 key');
      assert.equal(res.envelope?.request.service, S.QUERY, 'the request is echoed');
    }
  });

  it('refuses a wrong signature with ILLEGAL_SIGN, signed over error=', async () => {
    const res = await call(sandbox, query, { tamper: (p) => (p.partner_trans_id = 'OTHER') });
    assert.equal(res.envelope?.isSuccess, false);
    assert.equal(res.envelope?.error, 'ILLEGAL_SIGN');
    assert.equal(res.signatureValid, true);
    assert.match(String(res.headers['x-sandbox-reason']), /signature/);
  });

  it('refuses a signature made with another key, or none', async () => {
    const other = await call(sandbox, query, {
      signer: createMd5Signer('0000000000000000000000000000000x'),
    });
    assert.equal(other.envelope?.error, 'ILLEGAL_SIGN');
    const none = await call(sandbox, query, { signer: null });
    assert.equal(none.envelope?.error, 'ILLEGAL_SIGN_TYPE');
    const noSign = await call(sandbox, query, { tamper: (p) => delete p.sign });
    assert.equal(noSign.envelope?.error, 'ILLEGAL_SIGN');
  });

  it('signs over every parameter, wherever it travelled: dropping _input_charset from the signature breaks it', async () => {
    // The Java SDK sends _input_charset in the URL but still signs it (MAPI.md §2.2).
    const res = await call(sandbox, query, {
      signer: {
        signType: 'MD5',
        sign: (p, cs) => md5.sign({ ...p, _input_charset: undefined }, cs),
        verify: () => false,
      },
    });
    assert.equal(res.envelope?.error, 'ILLEGAL_SIGN');
  });

  it('refuses an unknown partner, an unknown or missing service', async () => {
    assert.equal(
      (await call(sandbox, { ...query, partner: '2088000000000000' })).envelope?.error,
      'ILLEGAL_PARTNER',
    );
    assert.equal(
      (await call(sandbox, query, { omit: ['partner'] })).envelope?.error,
      'ILLEGAL_PARTNER',
    );
    assert.equal(
      (await call(sandbox, { ...query, service: 'alipay.acquire.precreate' })).envelope?.error,
      'ILLEGAL_SERVICE',
    );
    assert.equal(
      (await call(sandbox, { partner_trans_id: 'X' })).envelope?.error,
      'ILLEGAL_SERVICE',
    );
  });

  it('refuses a sign type the partner has no key for, and an unsupported charset', async () => {
    const rsa = createRsaSigner({ signType: 'RSA2', privateKey: merchantKeys.privateKey });
    assert.equal(
      (await call(sandbox, query, { signer: rsa })).envelope?.error,
      'ILLEGAL_SIGN_TYPE',
    );
    const res = await call(sandbox, query, { tamper: (p) => (p._input_charset = 'ISO-8859-1') });
    assert.equal(res.envelope?.error, 'ILLEGAL_CHARSET');
  });

  it('refuses missing required parameters with ILLEGAL_ARGUMENT', async () => {
    const cases: Record<string, string>[] = [
      { service: S.QUERY },
      { service: S.REFUND, partner_trans_id: 'T1', partner_refund_id: 'R1', currency: 'USD' },
      { service: S.CANCEL, timestamp: String(sandbox.clock.now()) },
      { service: S.CREATE, timestamp: stamp(sandbox), biz_type: 'OVERSEASHOPQRCODE' },
      {
        service: S.MODIFYSTATUS,
        timestamp: stamp(sandbox),
        biz_type: 'OVERSEASHOPQRCODE',
        qrcode: 'https://qr.alipay.com/x',
      },
      { service: 'notify_verify' },
    ];
    for (const params of cases) {
      const res = await call(sandbox, params);
      assert.equal(res.envelope?.error, 'ILLEGAL_ARGUMENT', `${params.service}: ${res.text}`);
    }
    // _input_charset is required on the QR services and CANCEL, optional on QUERY.
    const noCharset = await call(
      sandbox,
      { service: S.CANCEL, timestamp: String(sandbox.clock.now()), out_trade_no: 'X' },
      { omit: ['_input_charset'] },
    );
    assert.equal(noCharset.envelope?.error, 'ILLEGAL_ARGUMENT');
    const queryNoCharset = await call(sandbox, query, { omit: ['_input_charset'] });
    assert.equal(queryNoCharset.envelope?.isSuccess, true);
  });

  it('refuses illegal values: biz_type, status, biz_data fields, amounts', async () => {
    const base = { service: S.CREATE, timestamp: stamp(sandbox), biz_type: 'OVERSEASHOPQRCODE' };
    const bad: Record<string, string>[] = [
      { ...base, biz_type: 'OTHER', biz_data: bizData() },
      { ...base, biz_data: 'not json' },
      { ...base, biz_data: bizData({ store_id: undefined }) },
      { ...base, biz_data: bizData({ secondary_merchant_industry: '58' }) },
      { ...base, biz_data: bizData({ trans_currency: 'usd' }) },
      { ...base, biz_data: bizData({ trans_currency: 'USD', currency: 'EUR' }) },
      { ...base, biz_data: bizData({ channel_fee: { type: 'RATE', value: '0.06' } }) },
      { ...base, biz_data: bizData({ channel_fee: { type: 'FIXED', value: '0.555' } }) },
      {
        service: S.MODIFYSTATUS,
        timestamp: stamp(sandbox),
        biz_type: 'OVERSEASHOPQRCODE',
        qrcode: 'q',
        status: 'PAUSE',
      },
      {
        service: S.REFUND,
        partner_trans_id: 'T1',
        partner_refund_id: 'R1',
        refund_amount: '1.005',
        currency: 'USD',
      },
      {
        service: S.REFUND,
        partner_trans_id: 'T1',
        partner_refund_id: 'R1',
        refund_amount: '0',
        currency: 'USD',
      },
      {
        service: S.REFUND,
        partner_trans_id: 'T1',
        partner_refund_id: 'T1',
        refund_amount: '1.00',
        currency: 'USD',
      },
      {
        service: S.REFUND,
        partner_trans_id: 'T1',
        partner_refund_id: 'R1',
        refund_amount: '1.00',
        currency: 'XXX',
      },
    ];
    for (const params of bad) {
      const res = await call(sandbox, params);
      assert.equal(res.envelope?.error, 'ILLEGAL_ARGUMENT', res.text);
    }
  });

  it('checks the timestamp window (30 minutes, GMT+8) and its format', async () => {
    const at = (ms: number): Record<string, string> => ({
      service: S.CREATE,
      timestamp: formatGmt8(sandbox.clock.now() + ms),
      biz_type: 'OVERSEASHOPQRCODE',
      biz_data: bizData({ store_id: 'TS1' }),
    });
    assert.equal((await call(sandbox, at(-29 * 60_000))).envelope?.isSuccess, true);
    assert.equal((await call(sandbox, at(-31 * 60_000))).envelope?.error, 'SESSION_TIMEOUT');
    assert.equal((await call(sandbox, at(31 * 60_000))).envelope?.error, 'SESSION_TIMEOUT');
    // A UTC wall time is 8 hours off: refused.
    const utc = new Date(sandbox.clock.now()).toISOString().slice(0, 19).replace('T', ' ');
    assert.equal(
      (await call(sandbox, { ...at(0), timestamp: utc })).envelope?.error,
      'SESSION_TIMEOUT',
    );
    assert.equal(
      (await call(sandbox, { ...at(0), timestamp: '2024/01/01 12:00:00' })).envelope?.error,
      'ILLEGAL_ARGUMENT',
    );
    const cancel = (timestamp: string): Promise<Awaited<ReturnType<typeof call>>> =>
      call(sandbox, { service: S.CANCEL, out_trade_no: 'NONE', timestamp });
    assert.equal((await cancel(String(sandbox.clock.now()))).business.error, 'TRADE_NOT_EXIST');
    assert.equal(
      (await cancel(formatGmt8(sandbox.clock.now()))).business.error,
      'TRADE_NOT_EXIST',
      'the Java SDK format is accepted',
    );
    assert.equal(
      (await cancel(String(sandbox.clock.now() - 3_600_000))).envelope?.error,
      'SESSION_TIMEOUT',
    );
  });

  it('decodes and verifies GBK requests (Chinese text signed over GBK bytes)', async () => {
    const res = await call(
      sandbox,
      {
        service: S.CREATE,
        timestamp: stamp(sandbox),
        biz_type: 'OVERSEASHOPQRCODE',
        biz_data: bizData({ store_id: 'GBK1', store_name: '演示咖啡' }),
      },
      { charset: 'GBK' },
    );
    assert.equal(res.envelope?.isSuccess, true, res.text);
    assert.match(String(res.headers['content-type']), /charset=GBK/);
    assert.equal(res.signatureValid, true);
    const codes = sandbox.state.codes();
    assert.ok(codes.some((c) => c.store_name === '演示咖啡'));
  });

  it('speaks RSA and RSA2 with the partner key pairs', async () => {
    for (const signType of ['RSA', 'RSA2'] as const) {
      const merchant = createRsaSigner({
        signType,
        privateKey: merchantKeys.privateKey,
        peerPublicKey: alipayKeys.publicKey,
      });
      const res = await call(sandbox, { ...query, partner: RSA_PARTNER }, { signer: merchant });
      assert.equal(res.envelope?.isSuccess, true, res.text);
      assert.equal(res.envelope?.signType, signType);
      assert.equal(
        res.signatureValid,
        true,
        `${signType} answer verifies with Alipay's public key`,
      );
      const forged = createRsaSigner({ signType, privateKey: alipayKeys.privateKey });
      assert.equal(
        (await call(sandbox, { ...query, partner: RSA_PARTNER }, { signer: forged })).envelope
          ?.error,
        'ILLEGAL_SIGN',
      );
    }
    assert.equal(
      (await call(sandbox, { ...query, partner: RSA_PARTNER })).envelope?.error,
      'ILLEGAL_SIGN_TYPE',
      'no MD5 key for this partner',
    );
  });

  it('answers 405 to other methods and 404 elsewhere', async () => {
    const put = await fetch(sandbox.gatewayUrl, { method: 'PUT' });
    assert.equal(put.status, 405);
    await put.text();
    const other = await fetch(`${sandbox.url}/nope`);
    assert.equal(other.status, 404);
    await other.text();
  });
});
