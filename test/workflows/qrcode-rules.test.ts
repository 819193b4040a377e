import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NON_RETRYABLE_ALIPAY_ERRORS, type QrCodeInput } from '../../src/alipay';
import { NON_RETRYABLE_GATEWAY_ERRORS } from '../../src/workflows/gateway-retry';
import { QrCodeRecord } from '../../src/workflows/qrcode-record';
import {
  MAX_ADMISSIONS,
  MAX_HISTORY_ENTRIES,
  qrCodeWorkflowId,
  type QrCodeState,
} from '../../src/workflows/qrcode-types';
import type { Refusal } from '../../src/workflows/refusal';

/** The MerchantQrCodeWorkflow's rules as pure code: what each validator refuses, and why. */
const partnerId = '2088101122136241';
const base: QrCodeInput = {
  secondaryMerchantId: 'M0001',
  secondaryMerchantName: 'Demo Cafe Ltd',
  merchantCategoryCode: '5812',
  storeId: 'S01',
  storeName: 'Demo Cafe Central',
  pricingCurrency: 'USD',
  settlementCurrency: 'USD',
};

/** A refusal's category, without its reason. */
function kindOf(refusal: Refusal | undefined): Omit<Refusal, 'reason'> | undefined {
  if (!refusal) return undefined;
  const { reason: _, ...rest } = refusal;
  return rest;
}

function active(info: QrCodeInput = base): QrCodeRecord {
  const record = QrCodeRecord.start(partnerId, info);
  record.created({ qrcode: 'https://qr.alipay.com/bax1' }, 1);
  return record;
}

describe('QrCodeRecord rules', () => {
  it('the status machine: ACTIVE -STOP-> STOPPED -RESTART-> ACTIVE, -DELETE-> DELETED (final)', () => {
    const code = active();
    assert.match(code.whyNotChangeStatus('RESTART')?.reason ?? '', /the code is active/);
    assert.equal(code.whyNotChangeStatus('STOP'), undefined);
    code.statusChanged('STOP', 2);
    assert.match(code.whyNotChangeStatus('STOP')?.reason ?? '', /already stopped/);
    assert.equal(code.whyNotChangeStatus('RESTART'), undefined);
    assert.equal(code.whyNotChangeStatus('DELETE'), undefined, 'a stopped code can be deleted');
    code.statusChanged('DELETE', 3);
    for (const change of ['STOP', 'RESTART', 'DELETE']) {
      assert.match(
        code.whyNotChangeStatus(change)?.reason ?? '',
        /the code was deleted; DELETE is final/,
      );
    }
    assert.match(code.whyNotModify(base)?.reason ?? '', /a deleted code cannot be modified/);
  });

  it('classifies refusals: INVALID requests (with the field) vs CONFLICTs with the state', () => {
    const code = active();
    assert.deepEqual(kindOf(code.whyNotChangeStatus('RESTART')), { kind: 'CONFLICT' });
    assert.deepEqual(kindOf(code.whyNotChangeStatus('PAUSE')), {
      kind: 'INVALID',
      field: 'status',
    });
    assert.deepEqual(kindOf(code.whyNotModify({ ...base, storeName: '' })), {
      kind: 'INVALID',
      field: 'storeName',
    });
    assert.deepEqual(
      kindOf(code.whyNotModify({ ...base, channelFee: { type: 'RATE', rate: '0.9' } })),
      { kind: 'INVALID', field: 'channelFee' },
    );
    assert.deepEqual(kindOf(code.whyNotModify({ ...base, storeId: 'S02' })), {
      kind: 'INVALID',
      field: 'storeId',
    });
    code.statusChanged('DELETE', 2);
    assert.deepEqual(kindOf(code.whyNotModify(base)), { kind: 'CONFLICT' });
    assert.deepEqual(kindOf(code.whyNotChangeStatus('STOP')), { kind: 'CONFLICT' });
  });

  it('while CREATING: STOP and DELETE wait for the code, RESTART is refused', () => {
    const code = QrCodeRecord.start(partnerId, base);
    assert.equal(code.status, 'CREATING');
    assert.equal(code.whyNotChangeStatus('STOP'), undefined);
    assert.match(code.whyNotChangeStatus('RESTART')?.reason ?? '', /being created/);
  });

  it('modify keeps the immutable fields and the fee variant', () => {
    const plain = active();
    assert.equal(plain.whyNotModify({ ...base, storeName: 'New name', address: 'x' }), undefined);
    assert.match(
      plain.whyNotModify({ ...base, secondaryMerchantId: 'M2' })?.reason ?? '',
      /secondaryMerchantId/,
    );
    assert.match(
      plain.whyNotModify({ ...base, serviceProviderId: 'ISV' })?.reason ?? '',
      /serviceProviderId/,
    );
    assert.match(
      plain.whyNotModify({ ...base, storeId: 'S02' })?.reason ?? '',
      /storeId cannot change/,
    );
    assert.match(
      plain.whyNotModify({ ...base, channelFee: { type: 'RATE', rate: '0.01' } })?.reason ?? '',
      /no-fee code/,
    );
    const fee = active({
      ...base,
      serviceProviderId: 'ISV',
      channelFee: { type: 'RATE', rate: '0.01' },
    });
    assert.match(
      fee.whyNotModify({ ...base, serviceProviderId: 'ISV' })?.reason ?? '',
      /cannot be removed/,
    );
    assert.equal(
      fee.whyNotModify({
        ...base,
        serviceProviderId: 'ISV',
        channelFee: { type: 'FIXED', amount: { minor: 30, currency: 'USD' } },
      }),
      undefined,
      'the fee may change type and value',
    );
    assert.match(
      fee.whyNotModify({ ...base, channelFee: { type: 'RATE', rate: '0.01' } })?.reason ?? '',
      /serviceProviderId/,
    );
  });

  it('refuses data that cannot be a code', () => {
    const code = active();
    const cases: [unknown, RegExp][] = [
      [null, /info must be an object/],
      [{ ...base, secondaryMerchantName: ' ' }, /secondaryMerchantName is required/],
      [{ ...base, merchantCategoryCode: '58120' }, /4-digit MCC/],
      [{ ...base, storeName: undefined }, /storeName is required/],
      [{ ...base, merchantCategoryCode: '4121', storeName: undefined }, /taxi data is required/],
      [{ ...base, pricingCurrency: 'usd' }, /pricingCurrency/],
      [
        { ...base, channelFee: { type: 'RATE', rate: '0.06' } },
        /rate must be a decimal in \[0, 0.05\]/,
      ],
      [
        { ...base, channelFee: { type: 'FIXED', amount: { minor: 1.5, currency: 'USD' } } },
        /minor units/,
      ],
      [
        { ...base, channelFee: { type: 'FIXED', amount: { minor: 5, currency: 'EUR' } } },
        /settlement currency/,
      ],
      [{ ...base, channelFee: { type: 'PERCENT' } }, /FIXED or RATE/],
    ];
    for (const [info, reason] of cases) {
      const fresh = QrCodeRecord.whyInvalidStart(partnerId, info);
      assert.match(fresh ?? '', reason, JSON.stringify(info));
      // On a live code the fee-variant rule may speak first; the data rules still refuse.
      assert.equal(code.whyNotModify(info)?.kind, 'INVALID', JSON.stringify(info));
    }
    assert.match(QrCodeRecord.whyInvalidStart('12345', base) ?? '', /16-digit/);
  });

  it('keeps a bounded history and counts continued runs', () => {
    const code = active();
    for (let i = 0; i < MAX_HISTORY_ENTRIES + 10; i++) code.modified(base, {}, i);
    assert.equal(code.snapshot().history.length, MAX_HISTORY_ENTRIES);
    const resumed = QrCodeRecord.resume(code.snapshot(), 99);
    assert.equal(resumed.snapshot().continuedRuns, 1);
    assert.equal(resumed.snapshot().history.at(-1)?.action, 'CONTINUED_AS_NEW');
  });

  it('remembers the latest admissions only, and resumes a run carried from before counter orders', () => {
    const code = active();
    for (let i = 0; i < MAX_ADMISSIONS + 5; i++) code.orders.admit({ outTradeNo: `OT-${i}` }, i);
    const admissions = code.snapshot().admissions;
    assert.equal(admissions.length, MAX_ADMISSIONS);
    assert.equal(admissions[0]?.outTradeNo, 'OT-5', 'oldest dropped');
    const { pendingOrders: _p, admissions: _a, unmatchedPayments: _u, ...older } = code.snapshot();
    const resumed = QrCodeRecord.resume(older as QrCodeState, 99, 'ACCEPT').snapshot();
    assert.deepEqual(
      [resumed.pendingOrders, resumed.admissions, resumed.unmatchedPayments],
      [[], [], 'ACCEPT'],
    );
    assert.match(
      QrCodeRecord.whyInvalidStart(partnerId, base, 'KEEP') ?? '',
      /unmatchedPayments must be ACCEPT or REVERSE/,
    );
  });

  it('workflow IDs are readable and distinguish the fee variant', () => {
    assert.equal(qrCodeWorkflowId(partnerId, 'S01', false), 'qrcode/2088101122136241/S01/no-fee');
    assert.equal(qrCodeWorkflowId(partnerId, 'S01', true), 'qrcode/2088101122136241/S01/fee');
  });

  it("the workflow's non-retryable list is the gateway layer's", () => {
    assert.deepEqual(
      [...NON_RETRYABLE_GATEWAY_ERRORS].sort(),
      [...NON_RETRYABLE_ALIPAY_ERRORS].sort(),
    );
  });
});
