import {
  ActivityFailure,
  ApplicationFailure,
  ParentClosePolicy,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { DayFetch, ReconciliationActivities } from '../activities/reconciliation';
import { DAY_MS, gmt8Date } from '../time';
import { reconciliationReportQuery } from './reconciliation-messages';
import {
  DEFAULT_CONFIRM_WAIT_MS,
  DEFAULT_FILE_DEADLINE_MS,
  DEFAULT_GRACE_MS,
  DEFAULT_RETRY_EVERY_MS,
  isCalendarDate,
  RECONCILIATION_FILE_REFUSED,
  RECONCILIATION_INVALID_INPUT,
  RECORD_OUTCOMES,
  reconciliationWorkflowId,
  type ActionResult,
  type DayComparison,
  type Discrepancy,
  type ReconciliationInput,
  type ReconciliationReport,
  type RecordOutcome,
} from './reconciliation-types';

const FINAL_FAILURES = [RECONCILIATION_FILE_REFUSED, 'ReconciliationPartnerMismatch'];

const files = proxyActivities<ReconciliationActivities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '1m',
  // A few tries per look (SFTP hiccups); a look that still fails counts as "not there yet".
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 4,
    nonRetryableErrorTypes: FINAL_FAILURES,
  },
});

const engine = proxyActivities<ReconciliationActivities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: FINAL_FAILURES },
});

/**
 * One partner's GMT+8 day against Alipay's transaction and settlement files (MAPI.md §15).
 * ID: {@link reconciliationWorkflowId}. Started by the daily Schedule (through
 * {@link DailyReconciliationWorkflow}) or on demand.
 *
 * Story: look for the day's files on the SFTP server, again every `retryEveryMs` until the
 * deadline (then FILE_MISSING, alerted); a file that does not parse refuses the day
 * (FILE_REFUSED), changing nothing. Compare every record with the engine's payments; start the
 * payments only the file knows (as their notification would have), settle payments waiting for
 * an operator when the file decides their unknown outcomes, and list every other disagreement.
 * The report is the result and the `report` query; the Web UI shows it in the details.
 */
export async function ReconciliationWorkflow(
  input: ReconciliationInput,
): Promise<ReconciliationReport> {
  // A scheduled run reconciles the GMT+8 day before the one it started on.
  const date = input.date ?? gmt8Date(workflowInfo().runStartTime.getTime() - DAY_MS);
  if (!isCalendarDate(date))
    throw ApplicationFailure.create({
      type: RECONCILIATION_INVALID_INPUT,
      nonRetryable: true,
      message: `date must be YYYY-MM-DD, got ${JSON.stringify(date)}`,
    });
  const report: ReconciliationReport = {
    date,
    partnerId: input.partnerId,
    status: 'WAITING_FOR_FILES',
    trigger: input.trigger ?? (input.date ? 'MANUAL' : 'SCHEDULE'),
    startedAt: Date.now(),
    attempts: 0,
    counts: Object.fromEntries(RECORD_OUTCOMES.map((o) => [o, 0])) as Record<RecordOutcome, number>,
    discrepancyCounts: {},
    discrepancies: [],
    actions: [],
    totals: {},
    paymentsChecked: 0,
  };
  setHandler(reconciliationReportQuery, () => report, {
    description: 'Counts per outcome, every discrepancy, the actions taken and the day totals.',
  });
  publish(report);

  const comparison = await waitForFiles();
  if (!comparison) return finish();
  report.status = 'RECONCILING';
  report.files = {
    transaction: comparison.transactionFile,
    settlement: comparison.settlementFile,
    records: comparison.records,
  };
  report.totals = comparison.totals;
  report.paymentsChecked = comparison.paymentsChecked;
  report.discrepancies.push(...comparison.discrepancies);
  const outcomes = { ...comparison.outcomes };
  publish(report);

  // One at a time, in file order: each is a named activity in the history.
  for (const action of comparison.actions) {
    let result: ActionResult;
    try {
      result =
        action.kind === 'START_PAYMENT'
          ? await engine.startFoundPayment(action)
          : await engine.settleFromFile({ ...action, date });
    } catch (err) {
      result = {
        kind: action.kind,
        workflowId: action.workflowId,
        outTradeNo: action.outTradeNo,
        lines: action.kind === 'SETTLE' ? action.lines : [action.record.line],
        result: 'FAILED',
        detail: messageOf(err),
      };
    }
    report.actions.push(result);
    if (result.result === 'FAILED') {
      for (const line of result.lines) outcomes[line] = 'DISCREPANCY';
      report.discrepancies.push({
        kind: action.kind === 'START_PAYMENT' ? 'RECOVERY_FAILED' : 'NEEDS_OPERATOR',
        outTradeNo: action.outTradeNo,
        workflowId: action.workflowId,
        detail: `${action.kind} failed: ${result.detail ?? ''}`,
      });
    } else if (result.result === 'SKIPPED') {
      // Someone else got there first (a late notification, an operator): the next run compares it.
      for (const line of result.lines) outcomes[line] = 'IN_PROGRESS';
    }
    publish(report);
  }

  // A found payment counts as recovered once its own QUERY confirmed it PAID.
  const started = report.actions.filter(
    (a) => a.kind === 'START_PAYMENT' && a.result === 'APPLIED',
  );
  if (started.length > 0) {
    const statuses = await engine.awaitFoundPayments({
      partnerId: input.partnerId,
      outTradeNos: started.map((a) => a.outTradeNo),
      timeoutMs: input.confirmWaitMs ?? DEFAULT_CONFIRM_WAIT_MS,
    });
    for (const a of started) {
      a.status = statuses[a.outTradeNo];
      if (a.status === 'PAID') continue;
      const pending = a.status === 'CONFIRMING' || a.status === 'AWAITING_NOTIFICATION';
      for (const line of a.lines) outcomes[line] = pending ? 'IN_PROGRESS' : 'DISCREPANCY';
      if (!pending)
        report.discrepancies.push({
          kind: 'RECOVERY_FAILED',
          outTradeNo: a.outTradeNo,
          workflowId: a.workflowId,
          detail: `found in the file, started, and ended ${a.status ?? 'unknown'} (see its timeline)`,
        });
    }
  }
  for (const o of Object.values(outcomes)) report.counts[o] += 1;
  report.status = 'RECONCILED';
  return finish();

  /** Looks for the files until they are there or the deadline passes; undefined: none to use. */
  async function waitForFiles(): Promise<DayComparison | undefined> {
    const deadline = report.startedAt + (input.fileDeadlineMs ?? DEFAULT_FILE_DEADLINE_MS);
    const every = input.retryEveryMs ?? DEFAULT_RETRY_EVERY_MS;
    for (;;) {
      report.attempts += 1;
      let fetched: DayFetch;
      try {
        fetched = await files.fetchReconciliationDay({
          partnerId: input.partnerId,
          date,
          graceMs: input.graceMs ?? DEFAULT_GRACE_MS,
        });
      } catch (err) {
        if (failureType(err) === RECONCILIATION_FILE_REFUSED) {
          report.status = 'FILE_REFUSED';
          report.error = messageOf(err);
          return undefined;
        }
        if (failureType(err) === 'ReconciliationPartnerMismatch') throw err;
        fetched = { status: 'MISSING', missing: [`could not look: ${messageOf(err)}`] };
      }
      if (fetched.status === 'READY') {
        delete report.error;
        return fetched.comparison;
      }
      report.error = `not there (look ${report.attempts}): ${fetched.missing.join(', ')}`;
      if (Date.now() >= deadline) {
        report.status = 'FILE_MISSING';
        return undefined;
      }
      publish(report);
      // The last look is at the deadline itself: a file that comes just in time is used.
      await sleep(Math.min(every, deadline - Date.now()));
    }
  }

  async function finish(): Promise<ReconciliationReport> {
    report.finishedAt = Date.now();
    report.discrepancyCounts = {};
    for (const d of report.discrepancies)
      report.discrepancyCounts[d.kind] = (report.discrepancyCounts[d.kind] ?? 0) + 1;
    publish(report);
    await engine.recordReconciliation(report);
    return report;
  }
}

/**
 * The daily Schedule's target: starts the ReconciliationWorkflow of the GMT+8 day before the
 * scheduled time, under the day's own ID (so the API finds it by date), and waits for it. A
 * run of that day already in progress (started by hand) is left alone.
 */
export async function DailyReconciliationWorkflow(
  input: Omit<ReconciliationInput, 'date' | 'trigger'>,
): Promise<ReconciliationReport | undefined> {
  const date = gmt8Date(workflowInfo().runStartTime.getTime() - DAY_MS);
  try {
    const child = await startChild(ReconciliationWorkflow, {
      workflowId: reconciliationWorkflowId(input.partnerId, date),
      args: [{ ...input, date, trigger: 'SCHEDULE' }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `Reconciliation ${date} (daily schedule)`,
    });
    return await child.result();
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return undefined;
    throw err;
  }
}

/** The Web UI's view of the day: status, counts and the first discrepancies. */
function publish(r: ReconciliationReport): void {
  const counts = RECORD_OUTCOMES.filter((o) => r.counts[o] > 0)
    .map((o) => `${o} ${r.counts[o]}`)
    .join(', ');
  const shown = r.discrepancies.slice(0, 20).map(describe);
  const more =
    r.discrepancies.length > shown.length
      ? [`… and ${r.discrepancies.length - shown.length} more (query \`report\`)`]
      : [];
  const totals = Object.entries(r.totals).map(
    ([c, t]) =>
      `${c}: payments ${t.payments}, refunds ${t.refunds}, fees ${t.fees}, settlement ${t.settlement}`,
  );
  setCurrentDetails(
    [
      `**${r.status}** — ${r.date}, partner ${r.partnerId} (${r.trigger.toLowerCase()}, look ${r.attempts})`,
      r.files
        ? `Files: ${r.files.transaction} (${r.files.records} records), ${r.files.settlement}`
        : undefined,
      counts ? `Records: ${counts}` : undefined,
      r.actions.length > 0
        ? `Actions: ${r.actions.map((a) => `${a.kind} ${a.outTradeNo} ${a.result}${a.status ? ` (${a.status})` : ''}`).join('; ')}`
        : undefined,
      totals.length > 0 ? `Totals: ${totals.join('; ')}` : undefined,
      r.error ? `**Problem:** ${r.error}` : undefined,
      r.discrepancies.length > 0
        ? `**Discrepancies (${r.discrepancies.length}):**\n${[...shown, ...more].map((l) => `- ${l}`).join('\n')}`
        : 'No discrepancies.',
    ]
      .filter((l): l is string => l !== undefined)
      .join('\n\n'),
  );
}

function describe(d: Discrepancy): string {
  return `${d.kind}${d.line !== undefined ? ` (${d.file} line ${d.line})` : ''}: ${d.detail}`;
}

function failureType(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

function messageOf(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}
