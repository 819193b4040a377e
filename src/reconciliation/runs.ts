import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { InvalidRequestError } from '../client-errors';
import { reconciliationReportQuery } from '../workflows/reconciliation-messages';
import {
  isCalendarDate,
  reconciliationWorkflowId,
  type ReconciliationInput,
  type ReconciliationReport,
} from '../workflows/reconciliation-types';

/** What an on-demand run may change from the defaults. */
export interface RunOptions {
  /** How long to keep looking for missing files (default 0: one look, then FILE_MISSING). */
  fileDeadlineMs?: number;
  retryEveryMs?: number;
  graceMs?: number;
}

/**
 * On-demand reconciliation (the merchant API and `npm run reconcile`): start a day's
 * ReconciliationWorkflow, or join the one already running for that day, and read a day's report.
 */
export class ReconciliationRuns {
  constructor(
    private readonly client: Client,
    private readonly partnerId: string,
    private readonly taskQueue: string,
  ) {}

  /** Starts the day's run (a running one is joined, not doubled); `wait` answers its report. */
  async start(
    date: string,
    options: RunOptions & { wait?: boolean } = {},
  ): Promise<{ workflowId: string; runId: string; report?: ReconciliationReport }> {
    checkDate(date);
    const input: ReconciliationInput = {
      partnerId: this.partnerId,
      date,
      trigger: 'MANUAL',
      fileDeadlineMs: options.fileDeadlineMs ?? 0,
      ...(options.retryEveryMs !== undefined ? { retryEveryMs: options.retryEveryMs } : {}),
      ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
    };
    const workflowId = reconciliationWorkflowId(this.partnerId, date);
    const handle = await this.client.workflow.start('ReconciliationWorkflow', {
      workflowId,
      taskQueue: this.taskQueue,
      args: [input],
      // A day already being reconciled is joined; a finished one runs again (it changes nothing twice).
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `Reconciliation ${date} (on demand)`,
    });
    const runId = handle.firstExecutionRunId;
    if (!options.wait) return { workflowId, runId };
    return { workflowId, runId, report: (await handle.result()) as ReconciliationReport };
  }

  /** The latest run's report of the day (in progress or finished); undefined when never run. */
  async get(date: string): Promise<ReconciliationReport | undefined> {
    checkDate(date);
    const handle = this.client.workflow.getHandle(reconciliationWorkflowId(this.partnerId, date));
    try {
      return await handle.query(reconciliationReportQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }
}

function checkDate(date: string): void {
  if (!isCalendarDate(date))
    throw new InvalidRequestError('date', `must be a GMT+8 calendar day YYYY-MM-DD, got ${date}`);
}
