import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import {
  admitPaymentUpdate,
  expectPaymentUpdate,
  modifyQrCodeUpdate,
  qrCodeStateQuery,
  setQrCodeStatusUpdate,
  withdrawExpectedPaymentUpdate,
} from '../../src/workflows/messages';
import { MerchantQrCodeWorkflow, qrCodeWorkflowId } from '../../src/workflows/qrcode';
import type {
  ExpectPaymentRequest,
  MerchantQrCodeInput,
  PaymentAdmissionRequest,
  QrCodeState,
  UpdateRejection,
} from '../../src/workflows/qrcode-types';
import { assertUpdateFails } from '../helpers/updates';
import { info, partnerId, useQrCodeWorker, waitFor } from './qrcode-support';
import { maybeRecordHistory } from './payment-support';

/**
 * Counter orders and payment admission on the MerchantQrCodeWorkflow, on the time-skipping
 * server, with the real activities and gateway client talking to an in-process sandbox.
 */
const { taskQueue, env, sandbox } = useQrCodeWorker('qrcode-orders');

type Code = WorkflowHandle<typeof MerchantQrCodeWorkflow>;

/** Starts the workflow of a store's no-fee slot and waits until its code exists. */
async function startCode(
  storeId: string,
  extra: Partial<MerchantQrCodeInput> = {},
): Promise<{ handle: Code; state: QrCodeState }> {
  const workflowId = qrCodeWorkflowId(partnerId, storeId, false);
  const handle = await env().client.workflow.start(MerchantQrCodeWorkflow, {
    taskQueue,
    workflowId,
    args: [{ partnerId, info: info(storeId), ...extra }],
  });
  return { handle, state: await waitFor(handle, (s) => s.status !== 'CREATING') };
}

const expect = (handle: Code, req: ExpectPaymentRequest) =>
  handle.executeUpdate(expectPaymentUpdate, { args: [req] });
const admit = (handle: Code, req: PaymentAdmissionRequest) =>
  handle.executeUpdate(admitPaymentUpdate, { args: [req] });
const order = (orderId: string, amount: string, extra: Partial<ExpectPaymentRequest> = {}) => ({
  orderId,
  amount,
  currency: 'USD',
  ...extra,
});

/** Asserts a validator refusal: type, message and its `details[0]` category. */
const refused = (promise: Promise<unknown>, message: RegExp, detail: UpdateRejection) =>
  assertUpdateFails(promise, 'QrCodeUpdateRejected', message, detail);

describe('MerchantQrCodeWorkflow counter orders', () => {
  it('a matching payment settles the oldest pending order of its amount; admission is idempotent', async () => {
    const { handle, state } = await startCode('O1');
    const first = await expect(handle, order('123', '88'));
    assert.equal(first.amount, '88.00', 'normalised to the currency exponent');
    assert.equal(first.amountMinor, 8800);
    assert.equal(first.expiresAt - first.registeredAt, 15 * 60 * 1000, 'default TTL');
    assert.deepEqual(await expect(handle, order('123', '88.00')), first, 'a repeat is idempotent');
    await expect(handle, order('124', '88.00'));
    await expect(handle, order('125', '12.50'));

    const paid = { outTradeNo: 'OT-O1-1', qrcode: state.qrcode, amount: '88.00', currency: 'USD' };
    const admission = await admit(handle, paid);
    assert.deepEqual(admission, {
      codeMatches: true,
      codeActive: true,
      codeStatus: 'ACTIVE',
      expected: { amount: '88.00', currency: 'USD', orderId: '123' },
      matchedOrderId: '123',
    });
    assert.deepEqual(await admit(handle, paid), admission, 'same outTradeNo, same answer');
    assert.deepEqual(
      await admit(handle, { outTradeNo: 'OT-O1-2', amount: '88', currency: 'USD' }),
      {
        codeMatches: true,
        codeActive: true,
        codeStatus: 'ACTIVE',
        expected: { amount: '88.00', currency: 'USD', orderId: '124' },
        matchedOrderId: '124',
      },
      'without a qrcode the slot is taken as named; the next oldest 88.00 order',
    );

    const after = await handle.query(qrCodeStateQuery);
    assert.deepEqual(
      after.pendingOrders.map((o) => o.orderId),
      ['125'],
    );
    assert.deepEqual(
      after.admissions.map((a) => [a.outTradeNo, a.matchedOrderId]),
      [
        ['OT-O1-1', '123'],
        ['OT-O1-2', '124'],
      ],
    );
    assert.equal(after.unmatchedPayments, 'REVERSE');
    assert.deepEqual(
      after.history.map((h) => h.action),
      [
        'CREATE',
        'EXPECT_PAYMENT',
        'EXPECT_PAYMENT',
        'EXPECT_PAYMENT',
        'PAYMENT_ADMITTED',
        'PAYMENT_ADMITTED',
      ],
    );
    await maybeRecordHistory(handle, 'counter-orders', 'qrcode');
    // The recorded history replays with today's workflow code (determinism check).
    await Worker.runReplayHistory(
      { workflowsPath: require.resolve('../../src/workflows') },
      await handle.fetchHistory(),
    );
  });

  it('REVERSE: an unmatched payment is held to the oldest pending order, which stays pending', async () => {
    const { handle } = await startCode('O2');
    await expect(handle, order('A', '10.00'));
    await expect(handle, order('B', '20.00'));
    const oldest = { amount: '10.00', currency: 'USD', orderId: 'A' };
    assert.deepEqual(
      await admit(handle, { outTradeNo: 'OT-O2-1', amount: '15.00', currency: 'USD' }),
      {
        codeMatches: true,
        codeActive: true,
        codeStatus: 'ACTIVE',
        expected: oldest,
      },
    );
    assert.deepEqual(
      await admit(handle, { outTradeNo: 'OT-O2-2', amount: '20.00', currency: 'EUR' }),
      { codeMatches: true, codeActive: true, codeStatus: 'ACTIVE', expected: oldest },
      'the currency must match too',
    );
    assert.deepEqual(
      await admit(handle, { outTradeNo: 'OT-O2-3', amount: 'twenty', currency: 'USD' }),
      { codeMatches: true, codeActive: true, codeStatus: 'ACTIVE', expected: oldest },
      'an unparsable amount matches nothing',
    );
    const state = await handle.query(qrCodeStateQuery);
    assert.deepEqual(
      state.pendingOrders.map((o) => o.orderId),
      ['A', 'B'],
    );
    // The customer pays again, correctly: the order is still there to settle.
    const again = await admit(handle, { outTradeNo: 'OT-O2-4', amount: '10.00', currency: 'USD' });
    assert.equal(again.matchedOrderId, 'A');
  });

  it('ACCEPT: an unmatched payment is a walk-in; with no pending order every payment is', async () => {
    const accepting = await startCode('O3', { unmatchedPayments: 'ACCEPT' });
    await expect(accepting.handle, order('A', '10.00'));
    const walkIn = { codeMatches: true, codeActive: true, codeStatus: 'ACTIVE' };
    assert.deepEqual(
      await admit(accepting.handle, { outTradeNo: 'OT-O3-1', amount: '15.00', currency: 'USD' }),
      walkIn,
    );
    assert.equal((await accepting.handle.query(qrCodeStateQuery)).pendingOrders.length, 1);

    const reversing = await startCode('O3-R');
    assert.deepEqual(
      await admit(reversing.handle, { outTradeNo: 'OT-O3-2', amount: '15.00', currency: 'USD' }),
      walkIn,
      'no pending order: walk-in, whatever the policy',
    );
  });

  it('an expired order is ignored, and its orderId may be used again', async () => {
    const { handle } = await startCode('O4');
    const short = await expect(handle, order('EXP', '5.00', { ttlMs: 60_000 }));
    assert.equal(short.expiresAt - short.registeredAt, 60_000);
    await env().sleep(61_000);
    assert.deepEqual(
      await admit(handle, { outTradeNo: 'OT-O4-1', amount: '5.00', currency: 'USD' }),
      { codeMatches: true, codeActive: true, codeStatus: 'ACTIVE' },
      'walk-in: the order expired',
    );
    assert.deepEqual((await handle.query(qrCodeStateQuery)).pendingOrders, []);
    const again = await expect(handle, order('EXP', '6.00'));
    assert.equal(again.amount, '6.00', 'an expired orderId is free again');
  });

  it('a payment to another code is told so and not recorded; a stopped code is not active', async () => {
    const { handle, state } = await startCode('O5');
    await expect(handle, order('A', '10.00'));
    const elsewhere = {
      outTradeNo: 'OT-O5-1',
      qrcode: 'https://qr.alipay.com/other',
      amount: '10.00',
      currency: 'USD',
    };
    assert.deepEqual(await admit(handle, elsewhere), {
      codeMatches: false,
      codeActive: false,
      codeStatus: 'ACTIVE',
    });
    assert.deepEqual((await handle.query(qrCodeStateQuery)).admissions, [], 'not recorded');

    await handle.executeUpdate(setQrCodeStatusUpdate, { args: ['STOP'] });
    const stopped = await admit(handle, { ...elsewhere, qrcode: state.qrcode });
    assert.deepEqual(stopped, { codeMatches: true, codeActive: false, codeStatus: 'STOPPED' });
    assert.equal(
      (await handle.query(qrCodeStateQuery)).pendingOrders.length,
      1,
      'no order logic for a stopped code',
    );
    await refused(
      expect(handle, order('B', '1.00')),
      /the code is STOPPED; only an ACTIVE code takes counter orders/,
      { kind: 'CONFLICT' },
    );
    await handle.executeUpdate(setQrCodeStatusUpdate, { args: ['RESTART'] });
    assert.deepEqual(
      await admit(handle, { ...elsewhere, qrcode: state.qrcode }),
      stopped,
      'the first answer stands for its outTradeNo',
    );
  });

  it('validators refuse with INVALID (and the field) or CONFLICT', async () => {
    const { handle } = await startCode('O6');
    await refused(expect(handle, order('', '1.00')), /orderId is required/, {
      kind: 'INVALID',
      field: 'orderId',
    });
    await refused(expect(handle, order('x'.repeat(65), '1.00')), /orderId is required/, {
      kind: 'INVALID',
      field: 'orderId',
    });
    await refused(expect(handle, order('A', '0')), /greater than zero/, {
      kind: 'INVALID',
      field: 'amount',
    });
    await refused(expect(handle, order('A', '1.005')), /at most 2 decimals/, {
      kind: 'INVALID',
      field: 'amount',
    });
    await refused(
      expect(handle, order('A', '1.00', { currency: 'EUR' })),
      /currency EUR is not this code's pricing currency USD/,
      { kind: 'INVALID', field: 'currency' },
    );
    await refused(expect(handle, order('A', '1.00', { ttlMs: 1000 })), /ttlMs must be/, {
      kind: 'INVALID',
      field: 'ttlMs',
    });
    await expect(handle, order('A', '1.00'));
    await refused(
      expect(handle, order('A', '2.00')),
      /order A is already pending with other parameters \(1\.00 USD\)/,
      { kind: 'CONFLICT', field: 'orderId' },
    );
    await refused(
      handle.executeUpdate(withdrawExpectedPaymentUpdate, { args: [{ orderId: 'nope' }] }),
      /order nope is not pending/,
      { kind: 'CONFLICT', field: 'orderId' },
    );
    await refused(admit(handle, { outTradeNo: '' }), /outTradeNo is required/, {
      kind: 'INVALID',
      field: 'outTradeNo',
    });

    // At most 100 pending orders.
    await Promise.all(
      Array.from({ length: 99 }, (_, i) => expect(handle, order(`F-${i}`, '1.00'))),
    );
    await refused(expect(handle, order('F-100', '1.00')), /100 orders are already pending/, {
      kind: 'CONFLICT',
    });
    const state = await handle.query(qrCodeStateQuery);
    assert.equal(state.pendingOrders.length, 100);
  });

  it('withdraw removes a pending order; counter Updates do not wait behind a slow gateway call', async () => {
    const { handle } = await startCode('O7');
    await expect(handle, order('A', '10.00'));
    await expect(handle, order('B', '10.00'));
    const withdrawn = await handle.executeUpdate(withdrawExpectedPaymentUpdate, {
      args: [{ orderId: 'A' }],
    });
    assert.deepEqual(
      withdrawn.pendingOrders.map((o) => o.orderId),
      ['B'],
    );
    assert.equal(withdrawn.history.at(-1)?.action, 'WITHDRAW_ORDER');
    assert.equal(
      (await admit(handle, { outTradeNo: 'OT-O7-1', amount: '10.00', currency: 'USD' }))
        .matchedOrderId,
      'B',
    );

    sandbox().faults.add({ service: 'MODIFY', kind: 'slow', ms: 1500 });
    const modifying = await handle.startUpdate(modifyQrCodeUpdate, {
      args: [info('O7', { storeName: 'Slow rename' })],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    let modified = false;
    const done = modifying.result().then(() => {
      modified = true;
    });
    await expect(handle, order('C', '3.00'));
    assert.equal(modified, false, 'expectPayment answered while MODIFY was still running');
    await done;
  });

  it('continues as new carrying pending orders, admissions and the policy', async () => {
    const { handle } = await startCode('O8', { maxHistoryEvents: 20, unmatchedPayments: 'ACCEPT' });
    await expect(handle, order('A', '10.00'));
    await expect(handle, order('B', '20.00'));
    const first = await admit(handle, { outTradeNo: 'OT-O8-1', amount: '10.00', currency: 'USD' });
    assert.equal(first.matchedOrderId, 'A');
    // Walk-ins (ACCEPT) until a run has continued: each Update lengthens the history.
    for (let i = 0; (await handle.query(qrCodeStateQuery)).continuedRuns === 0; i++) {
      assert.ok(i < 20, 'the workflow continued as new');
      await admit(handle, { outTradeNo: `OT-O8-fill-${i}`, amount: '1.00', currency: 'USD' });
    }
    const carried = await handle.query(qrCodeStateQuery);
    assert.deepEqual(
      carried.pendingOrders.map((o) => o.orderId),
      ['B'],
    );
    assert.equal(carried.unmatchedPayments, 'ACCEPT');
    assert.ok(carried.admissions.some((a) => a.outTradeNo === 'OT-O8-1'));
    assert.deepEqual(
      await admit(handle, { outTradeNo: 'OT-O8-1', amount: '10.00', currency: 'USD' }),
      first,
      'admission stays idempotent across runs',
    );
    const second = await admit(handle, { outTradeNo: 'OT-O8-2', amount: '20.00', currency: 'USD' });
    assert.equal(second.matchedOrderId, 'B');
  });

  it('resumes a run carried from before counter orders existed', async () => {
    const { state } = await startCode('O9');
    const { pendingOrders: _p, admissions: _a, unmatchedPayments: _u, ...older } = state;
    const workflowId = 'qrcode-orders-older-snapshot';
    const handle = await env().client.workflow.start(MerchantQrCodeWorkflow, {
      taskQueue,
      workflowId,
      args: [{ partnerId, info: info('O9'), continued: older as QrCodeState }],
    });
    const resumed = await handle.query(qrCodeStateQuery);
    assert.deepEqual(resumed.pendingOrders, []);
    assert.deepEqual(resumed.admissions, []);
    assert.equal(resumed.unmatchedPayments, 'REVERSE');
    await expect(handle, order('A', '10.00'));
    assert.equal(
      (await admit(handle, { outTradeNo: 'OT-O9-1', amount: '10.00', currency: 'USD' }))
        .matchedOrderId,
      'A',
    );
  });
});
