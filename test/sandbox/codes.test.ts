import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSandbox, SandboxError, type Sandbox } from '../../src/sandbox';
import { bizData, call, control, createCode, S, stamp } from './support';

/** Merchant QR codes: get-or-create, two per store, MODIFY rules and the MODIFYSTATUS machine. */
describe('sandbox QR codes', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startSandbox();
  });
  after(() => sandbox.close());

  const status = (qrcode: string, value: string): ReturnType<typeof call> =>
    call(sandbox, {
      service: S.MODIFYSTATUS,
      timestamp: stamp(sandbox),
      biz_type: 'OVERSEASHOPQRCODE',
      qrcode,
      status: value,
    });
  const modify = (
    qrcode: string,
    biz: Record<string, unknown>,
    extra: Record<string, string> = {},
  ): ReturnType<typeof call> =>
    call(sandbox, {
      service: S.MODIFY,
      timestamp: stamp(sandbox),
      biz_type: 'OVERSEASHOPQRCODE',
      qrcode,
      biz_data: bizData(biz),
      ...extra,
    });

  it('CREATE is get-or-create per store, with at most two codes: with and without channel fee', async () => {
    const plain = await createCode(sandbox, undefined, { store_id: 'C1' });
    assert.match(plain, /^https:\/\/qr\.alipay\.com\/bax/);
    assert.equal(
      await createCode(sandbox, undefined, { store_id: 'C1' }),
      plain,
      'same store, no fee: the same code',
    );
    const withFee = await createCode(sandbox, undefined, {
      store_id: 'C1',
      channel_fee: { type: 'RATE', value: '0.02' },
    });
    assert.notEqual(withFee, plain);
    assert.equal(
      await createCode(sandbox, undefined, {
        store_id: 'C1',
        channel_fee: { type: 'FIXED', value: '0.50' },
      }),
      withFee,
      'fee type does not make a third code',
    );
    assert.notEqual(
      await createCode(sandbox, undefined, { store_id: 'C2' }),
      plain,
      'another store, another code',
    );
    const res = await call(sandbox, {
      service: S.CREATE,
      timestamp: stamp(sandbox),
      biz_type: 'OVERSEASHOPQRCODE',
      biz_data: bizData({ store_id: 'C1' }),
    });
    assert.equal(res.envelope?.businessNode, 'qrcodeinfo');
    assert.deepEqual(Object.keys(res.business).sort(), ['qrcode', 'qrcode_img_url']);
    assert.ok(res.signatureValid);
  });

  it('MODIFY replaces the data and keeps the immutable fields', async () => {
    const qrcode = await createCode(sandbox, 'http://127.0.0.1:9/old', {
      store_id: 'M1',
      channel_fee: { type: 'RATE', value: '0.01' },
    });
    const ok = await modify(
      qrcode,
      { store_id: 'M1', store_name: 'Renamed', channel_fee: { type: 'FIXED', value: '0.30' } },
      { notify_url: 'http://127.0.0.1:9/new' },
    );
    assert.equal(ok.business.qrcode, qrcode, ok.text);
    const code = sandbox.state.codes().find((c) => c.qrcode === qrcode);
    assert.equal(code?.store_name, 'Renamed');
    assert.equal(code?.notify_url, 'http://127.0.0.1:9/new');
    const refused = [
      {
        store_id: 'M1',
        secondary_merchant_id: 'M0002',
        channel_fee: { type: 'RATE', value: '0.01' },
      },
      {
        store_id: 'M1',
        sys_service_provider_id: 'ISV1',
        channel_fee: { type: 'RATE', value: '0.01' },
      },
      { store_id: 'M1' }, // removes the channel fee present at creation
    ];
    for (const biz of refused) {
      const res = await modify(qrcode, biz);
      assert.equal(res.envelope?.isSuccess, true);
      assert.equal(res.business.result_code, 'FAIL', res.text);
      assert.equal(res.business.error, 'ILLEGAL_ARGUMENT');
      assert.equal(res.business.detail_error_code, 'QRCODE_FIELD_IMMUTABLE');
      assert.equal(res.business.qrcode, qrcode);
    }
    const unknown = await modify('https://qr.alipay.com/baxnope', { store_id: 'M1' });
    assert.equal(unknown.business.detail_error_code, 'QRCODE_NOT_EXIST');
  });

  it('MODIFY cannot move a code onto a store slot that already has one', async () => {
    const a = await createCode(sandbox, undefined, { store_id: 'SL1' });
    await createCode(sandbox, undefined, { store_id: 'SL2' });
    const res = await modify(a, { store_id: 'SL2' });
    assert.equal(res.business.detail_error_code, 'QRCODE_FIELD_IMMUTABLE');
  });

  it('MODIFYSTATUS: STOP, RESTART, DELETE; a deleted code cannot restart, repeats are idempotent', async () => {
    const qrcode = await createCode(sandbox, undefined, { store_id: 'ST1' });
    assert.equal((await status(qrcode, 'STOP')).business.qrcode, qrcode);
    assert.equal((await status(qrcode, 'STOP')).business.qrcode, qrcode, 'STOP again is fine');
    assert.throws(
      () => sandbox.pay({ qrcode, amount: '1.00' }),
      (e: unknown) => e instanceof SandboxError && e.code === 'SANDBOX_CODE_NOT_PAYABLE',
    );
    assert.equal((await status(qrcode, 'RESTART')).business.qrcode, qrcode);
    assert.equal(sandbox.pay({ qrcode, amount: '1.00' }).trade.amount.minor, 100);
    assert.equal((await status(qrcode, 'DELETE')).business.qrcode, qrcode);
    assert.equal((await status(qrcode, 'DELETE')).business.qrcode, qrcode, 'DELETE again is fine');
    const restart = await status(qrcode, 'RESTART');
    assert.equal(restart.business.result_code, 'FAIL');
    assert.equal(restart.business.error, 'ILLEGAL_ARGUMENT');
    assert.equal(restart.business.detail_error_code, 'QRCODE_STATUS_ERROR');
    assert.equal((await status(qrcode, 'STOP')).business.detail_error_code, 'QRCODE_STATUS_ERROR');
    assert.equal(
      (await modify(qrcode, { store_id: 'ST1' })).business.detail_error_code,
      'QRCODE_STATUS_ERROR',
    );
    const paid = await control(sandbox, 'POST', '/sandbox/pay', { qrcode, amount: '1.00' });
    assert.equal(paid.status, 409);
    const again = await createCode(sandbox, undefined, { store_id: 'ST1' });
    assert.notEqual(again, qrcode, 'a deleted code frees its slot [R]');
  });

  it('codes belong to their partner', async () => {
    const qrcode = await createCode(sandbox, undefined, { store_id: 'P1' });
    assert.equal(
      sandbox.state.codes().find((c) => c.qrcode === qrcode)?.partner,
      '2088101122136241',
    );
  });
});
