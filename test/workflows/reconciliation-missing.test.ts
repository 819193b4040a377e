import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createReconciliationActivities } from '../../src/activities/reconciliation';
import { loadConfig } from '../../src/config';
import { EngineMetrics } from '../../src/observability/metrics';
import { DEFAULT_SANDBOX_PARTNER, startSandbox, type Sandbox } from '../../src/sandbox';
import { NotificationIntake } from '../../src/server/notification-intake';
import {
  reconciliationWorkflowId,
  type ReconciliationReport,
} from '../../src/workflows/reconciliation-types';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { gmt8Date } from '../../src/time';
import { maybeRecordHistory, workflowBundle } from './payment-support';

// A day whose files never appear: the workflow looks again every hour (durable timers, skipped
// by the test server) until its deadline, then ends FILE_MISSING and raises the alert. The SFTP
// server is the sandbox's real one; it simply has no files for the day. Also the daily
// Schedule's target, DailyReconciliationWorkflow, which picks the day before it started.
const PARTNER = DEFAULT_SANDBOX_PARTNER;
let env: TestWorkflowEnvironment;
let sandbox: Sandbox;

before(async () => {
  env = await createTimeSkippingEnv();
  sandbox = await startSandbox();
});

after(async () => {
  await sandbox?.close();
  await env?.teardown();
});

/** A worker with the reconciliation activities against the sandbox's SFTP server. */
async function reconciliationWorker(taskQueue: string, metrics: EngineMetrics): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createReconciliationActivities({
      client: env.client,
      intake: new NotificationIntake({
        client: env.client,
        partnerId: PARTNER,
        taskQueue,
        payments: loadConfig({}).payments,
      }),
      partnerId: PARTNER,
      signType: 'MD5',
      sftp: {
        host: sandbox.sftp!.host,
        port: sandbox.sftp!.port,
        username: sandbox.sftp!.username,
        password: sandbox.sftp!.password!,
        directory: sandbox.sftp!.directory,
        timeoutMs: 5000,
      },
      charset: 'UTF-8',
      metrics,
    }),
  });
}

it('a missing file ends FILE_MISSING after retries, and is alerted', async () => {
  const metrics = new EngineMetrics();
  const taskQueue = 'recon-missing';
  const worker = await reconciliationWorker(taskQueue, metrics);
  const date = '2026-11-29';
  const report = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start('ReconciliationWorkflow', {
      taskQueue,
      workflowId: reconciliationWorkflowId(PARTNER, date),
      args: [{ partnerId: PARTNER, date, fileDeadlineMs: 3 * 3_600_000, retryEveryMs: 3_600_000 }],
    });
    const result = (await handle.result()) as ReconciliationReport;
    await maybeRecordHistory(handle, 'file-missing', 'reconciliation');
    return result;
  });
  assert.equal(report.status, 'FILE_MISSING');
  // Looks at 0 h, 1 h, 2 h and at the deadline, 3 h.
  assert.equal(report.attempts, 4);
  assert.match(
    report.error ?? '',
    /not there \(look 4\): 2088101122136241_transaction_20261129\.csv, 2088101122136241_settlement_20261129\.csv/,
  );
  assert.ok(report.finishedAt! - report.startedAt >= 3 * 3_600_000);
  assert.deepEqual(report.actions, []);
  const text = await metrics.render();
  assert.match(text, /alipay_reconciliation_alerts_total\{reason="FILE_MISSING"\} 1/);
  assert.match(text, /alipay_reconciliation_runs_total\{status="FILE_MISSING"\} 1/);
});

it("the Schedule's target reconciles the GMT+8 day before it started, under that day's ID", async () => {
  const taskQueue = 'recon-daily';
  const worker = await reconciliationWorker(taskQueue, new EngineMetrics());
  const { report, started } = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start('DailyReconciliationWorkflow', {
      taskQueue,
      workflowId: 'reconciliation-daily-test',
      args: [{ partnerId: PARTNER, fileDeadlineMs: 3_600_000, retryEveryMs: 1_800_000 }],
    });
    const started = (await handle.describe()).startTime.getTime();
    return { report: (await handle.result()) as ReconciliationReport, started };
  });
  const yesterday = gmt8Date(started - 86_400_000);
  assert.equal(report.date, yesterday);
  assert.equal(report.trigger, 'SCHEDULE');
  assert.equal(report.status, 'FILE_MISSING');
  assert.equal(report.attempts, 3);
  const child = await env.client.workflow
    .getHandle(reconciliationWorkflowId(PARTNER, yesterday))
    .describe();
  assert.equal(child.type, 'ReconciliationWorkflow');
  assert.equal(child.status.name, 'COMPLETED');
});
