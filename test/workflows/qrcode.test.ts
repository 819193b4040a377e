import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { QrCodeInput } from '../../src/alipay';
import { SandboxError } from '../../src/sandbox';
import { AlipayStoreId, QrCodeStatus } from '../../src/search-attributes';
import {
  modifyQrCodeUpdate,
  qrCodeStateQuery,
  setQrCodeStatusUpdate,
} from '../../src/workflows/messages';
import { MerchantQrCodeWorkflow, qrCodeWorkflowId } from '../../src/workflows/qrcode';
import type { MerchantQrCodeInput, QrCodeState } from '../../src/workflows/qrcode-types';
import { assertUpdateFails } from '../helpers/updates';
import { info, partnerId, useQrCodeWorker, waitFor } from './qrcode-support';
import { maybeRecordHistory } from './payment-support';

/**
 * MerchantQrCodeWorkflow on the time-skipping server, with the real activities and gateway
 * client talking to an in-process sandbox (signed MD5 requests, real XML answers).
 */
const { taskQueue, env, sandbox } = useQrCodeWorker('qrcode-workflow');

const FEE = { channelFee: { type: 'RATE', rate: '0.02' } } as const;

/** Starts the workflow of a store slot and waits until its code exists. */
async function startCode(
  code: QrCodeInput,
  options: { id?: string; extra?: Partial<MerchantQrCodeInput> } = {},
): Promise<{ id: string; state: QrCodeState }> {
  const id = options.id ?? qrCodeWorkflowId(partnerId, code.storeId, code.channelFee !== undefined);
  const handle = await env().client.workflow.start(MerchantQrCodeWorkflow, {
    taskQueue,
    workflowId: id,
    args: [{ partnerId, info: code, ...options.extra }],
    staticSummary: `QR code of store ${code.storeId}`,
  });
  return { id, state: await waitFor(handle, (s) => s.status !== 'CREATING') };
}

function sandboxCode(qrcode: string | undefined): Record<string, unknown> {
  const code = sandbox()
    .state.codes()
    .find((c) => c['qrcode'] === qrcode);
  assert.ok(code, `sandbox knows ${qrcode}`);
  return code;
}

describe('MerchantQrCodeWorkflow', () => {
  it('creates the code on start and publishes it; get-or-create gives a restarted workflow the same code', async () => {
    const { id, state } = await startCode(info('W1'));
    assert.equal(state.status, 'ACTIVE');
    assert.match(state.qrcode ?? '', /^https:\/\/qr\.alipay\.com\//);
    assert.ok(state.imageUrl, 'image URL kept');
    assert.equal(id, `qrcode/${partnerId}/W1/no-fee`);
    assert.equal(sandboxCode(state.qrcode)['status'], 'ACTIVE');
    assert.deepEqual(
      state.history.map((h) => [h.action, h.outcome]),
      [['CREATE', 'APPLIED']],
    );
    const described = await env().client.workflow.getHandle(id).describe();
    assert.equal(described.typedSearchAttributes.get(QrCodeStatus), 'ACTIVE');
    assert.equal(described.typedSearchAttributes.get(AlipayStoreId), 'W1');

    const fee = await startCode(info('W1', FEE));
    assert.notEqual(fee.state.qrcode, state.qrcode, "the fee variant is the store's other code");
    assert.equal(fee.state.withFee, true);

    // The workflow is lost (terminated by mistake) and started again: CREATE returns the same code.
    await env().client.workflow.getHandle(id).terminate('test: operator mistake');
    const again = await startCode(info('W1'));
    assert.equal(again.state.qrcode, state.qrcode);
  });

  it('modify, STOP (the customer is refused), RESTART and DELETE (the workflow ends)', async () => {
    const { id, state } = await startCode(info('W2'));
    const handle = env().client.workflow.getHandle<typeof MerchantQrCodeWorkflow>(id);

    const modified = await handle.executeUpdate(modifyQrCodeUpdate, {
      args: [info('W2', { storeName: 'Demo Cafe Renamed', address: '1 Main St' })],
    });
    assert.equal(modified.info.storeName, 'Demo Cafe Renamed');
    assert.equal(sandboxCode(state.qrcode)['store_name'], 'Demo Cafe Renamed');

    const stopped = await handle.executeUpdate(setQrCodeStatusUpdate, { args: ['STOP'] });
    assert.equal(stopped.status, 'STOPPED');
    assert.equal(sandboxCode(state.qrcode)['status'], 'STOPPED');
    assert.throws(
      () => sandbox().pay({ qrcode: state.qrcode, amount: '8.80' }),
      (e: unknown) => e instanceof SandboxError && e.code === 'SANDBOX_CODE_NOT_PAYABLE',
    );
    assert.equal((await handle.describe()).typedSearchAttributes.get(QrCodeStatus), 'STOPPED');

    const restarted = await handle.executeUpdate(setQrCodeStatusUpdate, { args: ['RESTART'] });
    assert.equal(restarted.status, 'ACTIVE');
    assert.equal(sandbox().pay({ qrcode: state.qrcode, amount: '8.80' }).trade.amount.minor, 880);

    const deleted = await handle.executeUpdate(setQrCodeStatusUpdate, { args: ['DELETE'] });
    assert.equal(deleted.status, 'DELETED');
    const result = await handle.result();
    assert.equal(result.status, 'DELETED');
    await maybeRecordHistory(handle, 'lifecycle', 'qrcode');
    assert.deepEqual(
      result.history.map((h) => h.action),
      ['CREATE', 'MODIFY', 'STOP', 'RESTART', 'DELETE'],
    );
    assert.ok(
      result.history.every((h, i, all) => i === 0 || h.at >= all[i - 1]!.at),
      'workflow-clock times',
    );
    assert.equal(sandboxCode(state.qrcode)['status'], 'DELETED');
    // The recorded history replays with today's workflow code (determinism check).
    await Worker.runReplayHistory(
      { workflowsPath: require.resolve('../../src/workflows') },
      await handle.fetchHistory(),
    );
  });

  it('validators refuse synchronously, with the reason, and nothing reaches Alipay', async () => {
    const { id, state } = await startCode(info('W3'));
    const handle = env().client.workflow.getHandle<typeof MerchantQrCodeWorkflow>(id);
    const before = (sandboxCode(state.qrcode)['history'] as unknown[]).length;
    const rejected = 'QrCodeUpdateRejected';

    await assertUpdateFails(
      handle.executeUpdate(setQrCodeStatusUpdate, { args: ['RESTART'] }),
      rejected,
      /the code is active; only a stopped code can be restarted/,
    );
    await assertUpdateFails(
      handle.executeUpdate(modifyQrCodeUpdate, {
        args: [info('W3', { secondaryMerchantId: 'M0002' })],
      }),
      rejected,
      /secondaryMerchantId cannot change after creation/,
    );
    await assertUpdateFails(
      handle.executeUpdate(modifyQrCodeUpdate, {
        args: [info('W3', { serviceProviderId: 'ISV1' })],
      }),
      rejected,
      /serviceProviderId cannot change/,
    );
    await assertUpdateFails(
      handle.executeUpdate(modifyQrCodeUpdate, { args: [info('W3', FEE)] }),
      rejected,
      /no-fee code; adding a channel fee/,
    );
    await assertUpdateFails(
      handle.executeUpdate(modifyQrCodeUpdate, { args: [info('W3-other')] }),
      rejected,
      /storeId cannot change/,
    );
    await assertUpdateFails(
      handle.executeUpdate(modifyQrCodeUpdate, {
        args: [info('W3', { settlementCurrency: 'XYZ' })],
      }),
      rejected,
      /settlementCurrency must be a supported ISO 4217 code/,
    );
    await assertUpdateFails(
      handle.executeUpdate(setQrCodeStatusUpdate, { args: ['PAUSE' as 'STOP'] }),
      rejected,
      /unknown status change "PAUSE"/,
    );
    assert.equal(
      (sandboxCode(state.qrcode)['history'] as unknown[]).length,
      before,
      'no gateway call',
    );
    assert.equal(
      (await handle.query(qrCodeStateQuery)).history.length,
      1,
      'rejections leave no trace',
    );

    const fee = await startCode(info('W3', FEE));
    await assertUpdateFails(
      env()
        .client.workflow.getHandle(fee.id)
        .executeUpdate(modifyQrCodeUpdate, { args: [info('W3')] }),
      rejected,
      /a channel fee present at creation cannot be removed/,
    );

    // An Update accepted while DELETE was running is refused when its turn comes.
    sandbox().faults.add({ service: 'MODIFYSTATUS', kind: 'slow', ms: 500 });
    const deleting = await handle.startUpdate(setQrCodeStatusUpdate, {
      args: ['DELETE'],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    await assertUpdateFails(
      handle.executeUpdate(modifyQrCodeUpdate, { args: [info('W3', { storeName: 'Too late' })] }),
      rejected,
      /no longer possible after an earlier change: the code was deleted/,
    );
    assert.equal((await deleting.result()).status, 'DELETED');
    assert.equal((await handle.result()).status, 'DELETED');
  });

  it('a transient SYSTEM_ERROR on MODIFYSTATUS is retried to success', async () => {
    const { id, state } = await startCode(info('W4'));
    const rule = sandbox().faults.add({ service: 'MODIFYSTATUS', kind: 'system-error' });
    const stopped = await env()
      .client.workflow.getHandle(id)
      .executeUpdate(setQrCodeStatusUpdate, { args: ['STOP'] });
    assert.equal(stopped.status, 'STOPPED');
    assert.equal(rule.fired, 1, 'the first attempt met the fault');
    assert.equal(sandboxCode(state.qrcode)['status'], 'STOPPED');
    assert.deepEqual(
      stopped.history.map((h) => [h.action, h.outcome]),
      [
        ['CREATE', 'APPLIED'],
        ['STOP', 'APPLIED'],
      ],
    );
  });

  it('a final gateway error fails the Update with a clear message and leaves the code unchanged', async () => {
    const { id, state } = await startCode(info('W5'));
    const handle = env().client.workflow.getHandle(id);
    sandbox().faults.add({ service: 'MODIFY', kind: 'fail', error: 'ILLEGAL_ARGUMENT' });
    await assertUpdateFails(
      handle.executeUpdate(modifyQrCodeUpdate, {
        args: [info('W5', { storeName: 'Never applied' })],
      }),
      'QrCodeGatewayFailed',
      /^MODIFY failed at Alipay: alipay\.commerce\.qrcode\.modify: .*code=ILLEGAL_ARGUMENT/,
    );
    const after = await handle.query(qrCodeStateQuery);
    assert.equal(after.info.storeName, 'Demo Cafe Central');
    assert.equal(after.status, 'ACTIVE');
    assert.deepEqual(after.history.at(-1)?.action, 'MODIFY');
    assert.deepEqual(after.history.at(-1)?.outcome, 'FAILED');
    assert.equal(sandboxCode(state.qrcode)['store_name'], 'Demo Cafe Central');
  });

  it('continues as new when the history grows, carrying the code between Updates', async () => {
    const { id, state } = await startCode(info('W6'), { extra: { maxHistoryEvents: 20 } });
    const handle = env().client.workflow.getHandle(id);
    const firstRun = (await handle.describe()).runId;
    await handle.executeUpdate(modifyQrCodeUpdate, { args: [info('W6', { storeName: 'First' })] });
    const continued = await waitFor(handle, (s) => s.continuedRuns >= 1);
    assert.notEqual((await handle.describe()).runId, firstRun);
    assert.equal(continued.qrcode, state.qrcode);
    assert.equal(continued.info.storeName, 'First');
    const stopped = await handle.executeUpdate(setQrCodeStatusUpdate, { args: ['STOP'] });
    assert.equal(stopped.status, 'STOPPED');
    assert.deepEqual(
      stopped.history.map((h) => h.action),
      ['CREATE', 'MODIFY', 'CONTINUED_AS_NEW', 'STOP'],
    );
  });

  it('refuses a start input that cannot be a code, and a partner this worker does not sign for', async () => {
    const bad = await env().client.workflow.start(MerchantQrCodeWorkflow, {
      taskQueue,
      workflowId: 'qrcode-bad-input',
      args: [{ partnerId, info: info('W7', { merchantCategoryCode: '58' }) }],
    });
    await assert.rejects(bad.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.ok(err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, 'QrCodeInvalidInput');
      assert.match(err.cause.message, /merchantCategoryCode must be a 4-digit MCC/);
      return true;
    });
    const other = await env().client.workflow.start(MerchantQrCodeWorkflow, {
      taskQueue,
      workflowId: qrCodeWorkflowId('2088000000000001', 'W7', false),
      args: [{ partnerId: '2088000000000001', info: info('W7') }],
    });
    await assert.rejects(other.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.ok(err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, 'QrCodeGatewayFailed');
      assert.match(
        err.cause.message,
        /CREATE failed at Alipay: this worker signs for partner 2088101122136241/,
      );
      return true;
    });
  });
});
