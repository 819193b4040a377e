/**
 * Data shapes of the ReconciliationWorkflow: its input, the comparison the activities produce,
 * the actions it takes and the report it returns (and answers to the `report` query). Plain
 * JSON; pure code, usable in the workflow, the activities, the HTTP layer and the CLI.
 */

/** Where a day's reconciliation is. */
export type ReconciliationStatus =
  /** Waiting for the day's files to appear on the SFTP server (retrying until the deadline). */
  | 'WAITING_FOR_FILES'
  /** Files read; comparing and acting on what they say. */
  | 'RECONCILING'
  /** Done: every record compared; discrepancies (if any) are listed for people. */
  | 'RECONCILED'
  /** The files never appeared before the deadline (alerted). */
  | 'FILE_MISSING'
  /** A file could not be trusted (malformed, truncated, wrong partner or day): nothing changed. */
  | 'FILE_REFUSED';

/** What happened to one record of the transaction file. */
export type RecordOutcome =
  /** The engine agrees with the record. */
  | 'MATCHED'
  /** A payment the engine never heard of, started from the file and confirmed PAID by QUERY. */
  | 'RECOVERED'
  /** An UNKNOWN refund/reversal (FAILED_NEEDS_OPERATOR) settled with the file as evidence. */
  | 'SETTLED'
  /** The engine is still working on it (confirming, reversing, a refund in flight). */
  | 'IN_PROGRESS'
  /** Disagrees with the engine: listed, never changed automatically. */
  | 'DISCREPANCY';

export const RECORD_OUTCOMES: readonly RecordOutcome[] = [
  'MATCHED',
  'RECOVERED',
  'SETTLED',
  'IN_PROGRESS',
  'DISCREPANCY',
];

/** Kinds of discrepancy, for people and for the metric's `kind` label. */
export type DiscrepancyKind =
  /** Same movement, another amount. */
  | 'AMOUNT_MISMATCH'
  /** Same movement, another currency. */
  | 'CURRENCY_MISMATCH'
  /** Alipay and the engine disagree on what happened (e.g. cancelled at Alipay, PAID here). */
  | 'STATUS_MISMATCH'
  /** A record the engine has no trace of (a refund made in the portal, a trade of another system). */
  | 'UNKNOWN_TO_ENGINE'
  /** An engine money movement of the day that the file does not list (after the grace period). */
  | 'MISSING_FROM_FILE'
  /** A payment that needs an operator, and the file does not say enough to settle it. */
  | 'NEEDS_OPERATOR'
  /** The settlement file and the transaction file disagree. */
  | 'SETTLEMENT_MISMATCH'
  /** A payment found in the file could not be started or did not end PAID. */
  | 'RECOVERY_FAILED';

/** One disagreement, with where to look. */
export interface Discrepancy {
  kind: DiscrepancyKind;
  /** `file line N` of the record, when a record is involved. */
  file?: string;
  line?: number;
  /** The record's partner-side ID (out_trade_no or refund ID). */
  reference?: string;
  outTradeNo?: string;
  workflowId?: string;
  detail: string;
}

/** A record of the transaction file in workflow terms (what the actions need). */
export interface FileMovement {
  file: string;
  line: number;
  type: 'PAYMENT' | 'REFUND' | 'CANCEL' | 'REVERSAL';
  reference: string;
  tradeNo: string;
  amountMinor: number;
  amount: string;
  currency: string;
  at: number;
  storeId?: string;
}

/** What the workflow does about a record: start a payment, or settle one from the file. */
export type ReconciliationAction =
  | { kind: 'START_PAYMENT'; workflowId: string; outTradeNo: string; record: FileMovement }
  | {
      kind: 'SETTLE';
      workflowId: string;
      outTradeNo: string;
      /** The `resolveByOperator` argument (note names the file and lines). */
      resolution: {
        outcome: 'REVERSED' | 'NOT_REVERSED';
        note: string;
        refundOutcomes?: Record<string, 'SUCCEEDED' | 'FAILED'>;
      };
      /** The records that are the evidence (their outcome becomes SETTLED once applied). */
      lines: number[];
    };

/** Money of a day per currency, decimals (from the settlement file). */
export interface CurrencyTotals {
  payments: string;
  refunds: string;
  fees: string;
  settlement: string;
}

/** The comparison of a day's files with the engine, before any action. */
export interface DayComparison {
  transactionFile: string;
  settlementFile: string;
  records: number;
  /** Outcome of each record line (actions still to run count as what they will become). */
  outcomes: Record<number, RecordOutcome>;
  actions: ReconciliationAction[];
  discrepancies: Discrepancy[];
  totals: Record<string, CurrencyTotals>;
  /** Engine payments looked at (visibility + state queries). */
  paymentsChecked: number;
}

/** What happened when an action ran. */
export interface ActionResult {
  kind: ReconciliationAction['kind'];
  workflowId: string;
  outTradeNo: string;
  lines: number[];
  /** APPLIED, or why not (already settled by someone else, refused…). */
  result: 'APPLIED' | 'SKIPPED' | 'FAILED';
  detail?: string;
  /** The payment's status afterwards. */
  status?: string;
}

/** The day's result: the workflow's result and its `report` query. */
export interface ReconciliationReport {
  date: string;
  partnerId: string;
  status: ReconciliationStatus;
  trigger: 'SCHEDULE' | 'MANUAL';
  startedAt: number;
  finishedAt?: number;
  /** File fetch attempts (each a fresh SFTP connection). */
  attempts: number;
  files?: { transaction: string; settlement: string; records: number };
  /** Records per outcome. */
  counts: Record<RecordOutcome, number>;
  /** Discrepancies per kind (the same list, counted). */
  discrepancyCounts: Partial<Record<DiscrepancyKind, number>>;
  discrepancies: Discrepancy[];
  actions: ActionResult[];
  totals: Record<string, CurrencyTotals>;
  paymentsChecked: number;
  /** Why the files were refused or are missing. */
  error?: string;
}

/** Start input of the ReconciliationWorkflow. */
export interface ReconciliationInput {
  partnerId: string;
  /** `YYYY-MM-DD` (GMT+8). Unset (schedule): the GMT+8 day before the workflow started. */
  date?: string;
  trigger?: 'SCHEDULE' | 'MANUAL';
  /** How long after the start the files are waited for (default 24 h), then FILE_MISSING. */
  fileDeadlineMs?: number;
  /** Pause between looks at the SFTP server while a file is missing (default 30 min). */
  retryEveryMs?: number;
  /**
   * Engine money movements younger than this (before the end of the day, or before now for a
   * day still running) are not expected in the file yet (default 15 min).
   */
  graceMs?: number;
  /** How long to wait for recovered payments to be confirmed (default 5 min). */
  confirmWaitMs?: number;
}

export const DEFAULT_FILE_DEADLINE_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_RETRY_EVERY_MS = 30 * 60 * 1000;
export const DEFAULT_GRACE_MS = 15 * 60 * 1000;
export const DEFAULT_CONFIRM_WAIT_MS = 5 * 60 * 1000;

/** Failure type of a file the parser refused (src/alipay's `ReconciliationFileError`). */
export const RECONCILIATION_FILE_REFUSED = 'ReconciliationFileError';
/** Failure type of a bad start input (a malformed date). */
export const RECONCILIATION_INVALID_INPUT = 'ReconciliationInvalidInput';

/** The one ReconciliationWorkflow of a partner's GMT+8 day: `reconciliation/<partner>/<date>`. */
export function reconciliationWorkflowId(partnerId: string, date: string): string {
  return `reconciliation/${partnerId}/${date}`;
}

/** The ID of the engine's daily Schedule for a partner. */
export function reconciliationScheduleId(partnerId: string): string {
  return `reconciliation-daily/${partnerId}`;
}

/** True for a real `YYYY-MM-DD` calendar date. Pure (no Date parsing quirks). */
export function isCalendarDate(date: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1] as number;
  return d <= days;
}
