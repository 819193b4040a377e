import { after, before } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createQrCodeActivities } from '../../src/activities/qrcode';
import { AlipayGateway, type QrCodeInput } from '../../src/alipay';
import {
  DEFAULT_SANDBOX_MD5_KEY,
  DEFAULT_SANDBOX_PARTNER,
  startSandbox,
  type Sandbox,
} from '../../src/sandbox';
import { qrCodeStateQuery } from '../../src/workflows/messages';
import type { QrCodeState } from '../../src/workflows/qrcode-types';
import { createTimeSkippingEnv } from '../helpers/temporal';

/**
 * Shared setup of the MerchantQrCodeWorkflow tests: the time-skipping server, with the real
 * activities and gateway client talking to an in-process sandbox (signed MD5 requests, real XML
 * answers).
 */

export const partnerId = DEFAULT_SANDBOX_PARTNER;

/**
 * Registers one `before` hook (sandbox, gateway, time-skipping env, a Worker on `taskQueue`) and
 * one `after` hook (their teardown). Call it once at the top of a test file; the accessors are
 * valid from the first test on.
 */
export function useQrCodeWorker(taskQueue: string): {
  taskQueue: string;
  env(): TestWorkflowEnvironment;
  sandbox(): Sandbox;
} {
  let env: TestWorkflowEnvironment | undefined;
  let sandbox: Sandbox | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;

  before(async () => {
    const box = await startSandbox();
    sandbox = box;
    const gateway = new AlipayGateway(
      {
        gatewayUrl: box.gatewayUrl,
        partner: partnerId,
        signType: 'MD5',
        md5Key: DEFAULT_SANDBOX_MD5_KEY,
      },
      { now: () => box.clock.now() },
    );
    env = await createTimeSkippingEnv();
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../../src/workflows'),
      activities: createQrCodeActivities({ gateway, partnerId, verifyNotifyIds: false }),
    });
    running = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
    await sandbox?.close();
  });

  return {
    taskQueue,
    env: () => env ?? fail('the test environment'),
    sandbox: () => sandbox ?? fail('the sandbox'),
  };
}

function fail(what: string): never {
  throw new Error(`${what} is not set up yet: use it inside a test`);
}

/** A store's code data: the fields the workflow tests start from. */
export function info(storeId: string, extra: Partial<QrCodeInput> = {}): QrCodeInput {
  return {
    secondaryMerchantId: 'M0001',
    secondaryMerchantName: 'Demo Cafe Ltd',
    merchantCategoryCode: '5812',
    storeId,
    storeName: 'Demo Cafe Central',
    pricingCurrency: 'USD',
    settlementCurrency: 'USD',
    ...extra,
  };
}

/** Polls the workflow's state until `done` holds (200 tries, 50 ms apart). */
export async function waitFor(
  handle: WorkflowHandle,
  done: (s: QrCodeState) => boolean,
): Promise<QrCodeState> {
  for (let i = 0; i < 200; i++) {
    const state = await handle.query(qrCodeStateQuery);
    if (done(state)) return state;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`workflow ${handle.workflowId} never reached the expected state`);
}
