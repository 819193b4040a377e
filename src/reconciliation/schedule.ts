import { ScheduleAlreadyRunning, type Client, type ScheduleOptions } from '@temporalio/client';
import type { ReconciliationConfig } from '../config';
import { reconciliationScheduleId } from '../workflows/reconciliation-types';

/** What the daily Schedule needs to know. */
export interface ScheduleSettings {
  partnerId: string;
  taskQueue: string;
  reconciliation: ReconciliationConfig;
}

/**
 * The Schedule's definition: every day at the configured GMT+8 hour, start the
 * DailyReconciliationWorkflow (which reconciles the day before under the day's own ID).
 * GMT+8 has no daylight saving time, so a fixed UTC hour is exact and needs no time-zone data
 * on the server.
 */
export function scheduleOptions(s: ScheduleSettings): ScheduleOptions {
  const r = s.reconciliation;
  const utcHour = (r.scheduleHourGmt8 - 8 + 24) % 24;
  return {
    scheduleId: reconciliationScheduleId(s.partnerId),
    spec: { calendars: [{ hour: utcHour, minute: 0, comment: `${r.scheduleHourGmt8}:00 GMT+8` }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'DailyReconciliationWorkflow',
      workflowId: `reconciliation-daily/${s.partnerId}`,
      taskQueue: s.taskQueue,
      args: [
        {
          partnerId: s.partnerId,
          fileDeadlineMs: r.fileDeadlineMs,
          retryEveryMs: r.retryEveryMs,
          graceMs: r.graceMs,
        },
      ],
      staticSummary: `Daily reconciliation of partner ${s.partnerId} (previous GMT+8 day)`,
    },
    // One day at a time; a day missed while the cluster was down is still run (within a day).
    policies: { overlap: 'SKIP', catchupWindow: '1 day' },
    memo: {
      about: "Reconciles the previous GMT+8 day against Alipay's transaction and settlement files",
    },
  };
}

/**
 * Creates the daily Schedule, or brings an existing one in line with the configuration (the
 * hour or the patience may have changed). Safe to call from every worker at every start.
 */
export async function ensureReconciliationSchedule(
  client: Client,
  settings: ScheduleSettings,
): Promise<'created' | 'updated'> {
  const options = scheduleOptions(settings);
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(options.scheduleId).update((previous) => ({
      ...previous,
      spec: options.spec,
      action: options.action,
      policies: { ...previous.policies, ...options.policies },
    }));
    return 'updated';
  }
}
