import { Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Charset, SignType } from '../alipay';
import { parseSettlementFile, parseTransactionFile } from '../alipay/reconciliation-file';
import { downloadFiles, type ReconciliationSftpConfig } from '../alipay/reconciliation-sftp';
import { reconciliationFileNames } from '../reconciliation/file-names';
import { compareDay } from '../reconciliation/compare';
import { notificationFromFile } from '../reconciliation/found-payment';
import type { NotificationIntake } from '../server/notification-intake';
import { DAY_MS, parseGmt8 } from '../time';
import { resolveByOperatorUpdate } from '../workflows/messages';
import type {
  ActionResult,
  DayComparison,
  ReconciliationAction,
  ReconciliationReport,
} from '../workflows/reconciliation-types';
import { paymentState, loadDayPayments } from './reconciliation-payments';

/** What the reconciliation activities need from the worker. */
export interface ReconciliationDeps {
  /** A Temporal client of the engine's namespace (payments are read and signalled through it). */
  readonly client: Client;
  /** The notification receiver's path into Temporal: a found payment takes the same one. */
  readonly intake: Pick<NotificationIntake, 'forward'>;
  readonly partnerId: string;
  /** The gateway's sign type (recorded on the stand-in notification). */
  readonly signType: SignType;
  readonly sftp: ReconciliationSftpConfig;
  /** Charset of Alipay's files. */
  readonly charset: Charset;
  readonly metrics?: ReconciliationMetrics;
}

/** Where a finished reconciliation is counted (`EngineMetrics` fits). */
export interface ReconciliationMetrics {
  reconciliation(report: ReconciliationReport): void;
}

/** `fetchReconciliationDay` answer: the files are not there yet, or the day compared. */
export type DayFetch =
  { status: 'MISSING'; missing: string[] } | { status: 'READY'; comparison: DayComparison };

/** Failure type when an activity is asked about another partner than the worker's. */
export const RECONCILIATION_PARTNER_MISMATCH = 'ReconciliationPartnerMismatch';

export function createReconciliationActivities(deps: ReconciliationDeps) {
  const ensurePartner = (partnerId: string) => {
    if (partnerId !== deps.partnerId)
      throw ApplicationFailure.create({
        type: RECONCILIATION_PARTNER_MISMATCH,
        nonRetryable: true,
        message: `this worker reconciles partner ${deps.partnerId}, not ${partnerId}`,
      });
  };
  const heartbeat = () => Context.current().heartbeat();

  return {
    /**
     * Downloads the day's transaction and settlement files over SFTP, parses them (a file that
     * does not parse fails this activity for good with `ReconciliationFileError`) and compares
     * them with the engine's payments. Changes nothing.
     */
    async fetchReconciliationDay(args: {
      partnerId: string;
      date: string;
      graceMs: number;
    }): Promise<DayFetch> {
      ensurePartner(args.partnerId);
      const names = reconciliationFileNames(args.partnerId, args.date);
      const files = await downloadFiles(deps.sftp, [names.transaction, names.settlement]);
      heartbeat();
      const missing = [names.transaction, names.settlement].filter((n) => !files.get(n));
      if (missing.length > 0) return { status: 'MISSING', missing };
      const expected = { partner: args.partnerId, date: args.date, charset: deps.charset };
      const transactions = parseTransactionFile(files.get(names.transaction) as Buffer, {
        ...expected,
        name: names.transaction,
      });
      const settlements = parseSettlementFile(files.get(names.settlement) as Buffer, {
        ...expected,
        name: names.settlement,
      });
      const dayStart = parseGmt8(`${args.date} 00:00:00`);
      const day = { start: dayStart, end: dayStart + DAY_MS };
      const payments = await loadDayPayments(
        deps.client,
        args.partnerId,
        day,
        transactions.records,
        heartbeat,
      );
      return {
        status: 'READY',
        comparison: compareDay({
          partnerId: args.partnerId,
          dayStart: day.start,
          dayEnd: day.end,
          asOf: Date.now(),
          graceMs: args.graceMs,
          transactionFile: names.transaction,
          settlementFile: names.settlement,
          transactions: transactions.records,
          settlements: settlements.records,
          payments,
        }),
      };
    },

    /** Starts a payment found only in the file, exactly as its notification would have. */
    async startFoundPayment(
      action: Extract<ReconciliationAction, { kind: 'START_PAYMENT' }>,
    ): Promise<ActionResult> {
      const n = notificationFromFile(action.record, deps.partnerId, deps.signType);
      const result = await deps.intake.forward(n);
      return {
        kind: action.kind,
        workflowId: result.workflowId,
        outTradeNo: action.outTradeNo,
        lines: [action.record.line],
        result: result.outcome === 'SIGNALLED' ? 'APPLIED' : 'SKIPPED',
        ...(result.outcome === 'SIGNALLED' ? {} : { detail: 'the payment had finished already' }),
      };
    },

    /**
     * Settles a payment waiting for an operator with the file as the evidence, through its
     * `resolveByOperator` Update (one Update ID per day and payment: a retry gets the first
     * answer). A refusal (someone settled it meanwhile) is reported, not retried.
     */
    async settleFromFile(
      args: Extract<ReconciliationAction, { kind: 'SETTLE' }> & { date: string },
    ): Promise<ActionResult> {
      const base = {
        kind: args.kind,
        workflowId: args.workflowId,
        outTradeNo: args.outTradeNo,
        lines: args.lines,
      };
      try {
        const state = await deps.client.workflow
          .getHandle(args.workflowId)
          .executeUpdate(resolveByOperatorUpdate, {
            args: [args.resolution],
            updateId: `reconciliation/${args.date}/${args.outTradeNo}`,
          });
        return { ...base, result: 'APPLIED', status: state.status };
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError)
          return { ...base, result: 'SKIPPED', detail: err.cause?.message ?? err.message };
        throw err;
      }
    },

    /**
     * Waits (polling, with heartbeats) until each found payment has left AWAITING_NOTIFICATION
     * and CONFIRMING, or `timeoutMs` passed; answers each one's status then.
     */
    async awaitFoundPayments(args: {
      partnerId: string;
      outTradeNos: string[];
      timeoutMs: number;
    }): Promise<Record<string, string>> {
      const deadline = Date.now() + args.timeoutMs;
      const statuses: Record<string, string> = {};
      for (;;) {
        for (const outTradeNo of args.outTradeNos) {
          const known = statuses[outTradeNo];
          if (known && known !== 'AWAITING_NOTIFICATION' && known !== 'CONFIRMING') continue;
          statuses[outTradeNo] =
            (await paymentState(deps.client, args.partnerId, outTradeNo))?.status ?? 'NO_WORKFLOW';
        }
        heartbeat();
        const waiting = Object.values(statuses).some(
          (s) => s === 'AWAITING_NOTIFICATION' || s === 'CONFIRMING',
        );
        if (!waiting || Date.now() >= deadline) return statuses;
        await new Promise((r) => setTimeout(r, 500));
      }
    },

    /** Counts the finished day in the metrics and logs it (an alert when files are missing or refused). */
    async recordReconciliation(report: ReconciliationReport): Promise<void> {
      deps.metrics?.reconciliation(report);
      const log = Context.current().log;
      const fields = {
        date: report.date,
        status: report.status,
        counts: report.counts,
        discrepancies: report.discrepancies.length,
        ...(report.error ? { error: report.error } : {}),
      };
      if (report.status === 'FILE_MISSING' || report.status === 'FILE_REFUSED')
        log.error(`ALERT reconciliation ${report.date}: ${report.status}`, fields);
      else if (report.discrepancies.length > 0)
        log.warn(
          `reconciliation ${report.date}: ${report.discrepancies.length} discrepancies`,
          fields,
        );
      else log.info(`reconciliation ${report.date}: all matched`, fields);
    },
  };
}

/** The reconciliation activities as the workflow proxies them (types only). */
export type ReconciliationActivities = ReturnType<typeof createReconciliationActivities>;
