import { encode, type Charset } from '../../alipay/charset';
import { gmt8Date } from '../../time';
import type { SandboxCore } from '../core';
import { badRequest } from '../errors';
import {
  dayRows,
  fileText,
  gmt8DayBounds,
  reconFileName,
  SETTLEMENT_COLUMNS,
  TRANSACTION_COLUMNS,
  type TransactionRow,
} from './layout';

/** Which of a day's two files a fault applies to. */
export type ReconFileKind = 'transaction' | 'settlement';

/**
 * A fault on a day's files:
 * - `late` (`ms`): visible only `ms` (sandbox time) after they would have been;
 * - `missing`: never published (until the fault is removed);
 * - `truncated`: the file ends in the middle of its last record (`Total_count` no longer holds);
 * - `tamper` (`outTradeNo`?, `amount`?): a PAYMENT row (that trade's, default the first) disagrees
 *   with its own trade: its `Transaction_amount` becomes `amount` (default: 1.00 more).
 */
export type ReconFault =
  | { kind: 'late'; ms: number; file?: ReconFileKind }
  | { kind: 'missing'; file?: ReconFileKind }
  | { kind: 'truncated'; file?: ReconFileKind }
  | { kind: 'tamper'; outTradeNo?: string; amount?: string };

/** Options of the reconciliation files (all with defaults). */
export interface ReconFileOptions {
  /** How long after the end of a GMT+8 day its files appear (sandbox time; default 2 h) [R]. */
  publishDelayMs?: number;
  /** Charset of the files (default UTF-8; AlipayHK's pages default to GBK) [R]. */
  charset?: Charset;
  /** Alipay's fee on payments in basis points (default 180 = 1.80 %) [R]. */
  feeBasisPoints?: number;
}

/** A published file as the SFTP server serves it. */
export interface ReconFile {
  readonly name: string;
  readonly bytes: Buffer;
  /** Sandbox time from which the file is visible. */
  readonly visibleFrom: number;
}

interface DayFiles {
  producedAt: number;
  files: ReconFile[];
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The daily transaction and settlement files of every partner: produced from the trade book
 * once a GMT+8 day is over (plus the publication delay), or at once on request (control
 * endpoint), then frozen like the files Alipay uploads. Faults change what is published.
 */
export class ReconFiles {
  readonly #core: SandboxCore;
  readonly #delayMs: number;
  readonly #charset: Charset;
  readonly #feeBasisPoints: number;
  readonly #days = new Map<string, DayFiles>();
  readonly #faults = new Map<string, ReconFault[]>();

  constructor(core: SandboxCore, options: ReconFileOptions = {}) {
    this.#core = core;
    this.#delayMs = options.publishDelayMs ?? 2 * 60 * 60 * 1000;
    this.#charset = options.charset ?? 'UTF-8';
    this.#feeBasisPoints = options.feeBasisPoints ?? 180;
  }

  get charset(): Charset {
    return this.#charset;
  }

  /** Produces (again) the files of `date` from the current state, visible at once unless a fault says otherwise. */
  produce(date: string): {
    date: string;
    files: { name: string; bytes: number; visibleFrom: string }[];
  } {
    checkDate(date);
    const now = this.#core.clock.now();
    const day = this.#build(date, now);
    this.#days.set(date, day);
    return {
      date,
      files: day.files.map((f) => ({
        name: f.name,
        bytes: f.bytes.length,
        visibleFrom: new Date(f.visibleFrom).toISOString(),
      })),
    };
  }

  /** Adds a fault to the files of `date`; it applies to files produced from now on. */
  addFault(date: string, fault: ReconFault): ReconFault[] {
    checkDate(date);
    checkFault(fault);
    const list = [...(this.#faults.get(date) ?? []), fault];
    this.#faults.set(date, list);
    this.#days.delete(date); // produced again (with the fault) when next asked for or produced
    return list;
  }

  /** Removes the faults of `date` (files are produced again when next asked for). */
  clearFaults(date: string): void {
    checkDate(date);
    this.#faults.delete(date);
    this.#days.delete(date);
  }

  /** The files visible now (days that are over are produced on first sight). */
  visibleFiles(): ReconFile[] {
    const now = this.#core.clock.now();
    this.#produceDueDays(now);
    return [...this.#days.values()].flatMap((d) => d.files.filter((f) => f.visibleFrom <= now));
  }

  /** What the control endpoint shows: produced days, their files and faults. */
  view(): Record<string, unknown> {
    const now = this.#core.clock.now();
    return {
      charset: this.#charset,
      publishDelayMs: this.#delayMs,
      days: [...this.#days.entries()].map(([date, d]) => ({
        date,
        producedAt: new Date(d.producedAt).toISOString(),
        files: d.files.map((f) => ({
          name: f.name,
          bytes: f.bytes.length,
          visible: f.visibleFrom <= now,
          visibleFrom: new Date(f.visibleFrom).toISOString(),
        })),
      })),
      faults: Object.fromEntries(this.#faults),
    };
  }

  /** Days that ended at least the publication delay ago and were never produced: produce them now. */
  #produceDueDays(now: number): void {
    // Alipay publishes days once they are over; look back over the days trades exist for.
    const dates = new Set<string>();
    for (const trade of this.#core.trades.trades()) {
      dates.add(gmt8Date(trade.createdAt));
      if (trade.closed) dates.add(gmt8Date(trade.closed.at));
    }
    for (const refund of this.#core.trades.refunds()) dates.add(gmt8Date(refund.createdAt));
    for (const date of dates) {
      if (this.#days.has(date)) continue;
      const publishAt = gmt8DayBounds(date).end + this.#delayMs;
      if (now >= publishAt) this.#days.set(date, this.#build(date, publishAt));
    }
  }

  #build(date: string, publishedAt: number): DayFiles {
    const faults = this.#faults.get(date) ?? [];
    const files: ReconFile[] = [];
    for (const partner of this.#core.partners.list().map((p) => p.partner)) {
      const { transactions, settlements } = dayRows({
        trades: this.#core.trades,
        codes: this.#core.codes,
        partner,
        date,
        feeBasisPoints: this.#feeBasisPoints,
      });
      const tamper = faults.find((f) => f.kind === 'tamper');
      if (tamper) tamperWith(transactions, tamper);
      const texts: Record<ReconFileKind, string> = {
        transaction: fileText(partner, date, 'Payment_time', TRANSACTION_COLUMNS, transactions),
        settlement: fileText(partner, date, 'Settlement_date', SETTLEMENT_COLUMNS, settlements),
      };
      for (const kind of ['transaction', 'settlement'] as const) {
        const applies = (f: ReconFault) => f.kind !== 'tamper' && (f.file ?? kind) === kind;
        if (faults.some((f) => f.kind === 'missing' && applies(f))) continue;
        const truncated = faults.some((f) => f.kind === 'truncated' && applies(f));
        const bytes = encode(truncated ? cutInLastLine(texts[kind]) : texts[kind], this.#charset);
        const late = faults.find(
          (f): f is Extract<ReconFault, { kind: 'late' }> => f.kind === 'late' && applies(f),
        );
        files.push({
          name: reconFileName(partner, kind, date),
          bytes,
          visibleFrom: publishedAt + (late?.ms ?? 0),
        });
      }
    }
    return { producedAt: publishedAt, files };
  }
}

/** The text cut off in the middle of its last line, as an interrupted upload leaves it. */
function cutInLastLine(text: string): string {
  const body = text.slice(0, -2); // without the final CRLF
  const lastStart = body.lastIndexOf('\r\n') + 2;
  return text.slice(0, lastStart + Math.floor((body.length - lastStart) / 2));
}

function tamperWith(rows: TransactionRow[], fault: Extract<ReconFault, { kind: 'tamper' }>): void {
  const row = rows.find(
    (r) =>
      r.Transaction_type === 'PAYMENT' &&
      (fault.outTradeNo === undefined || r.Partner_transaction_id === fault.outTradeNo),
  );
  if (!row) return;
  if (fault.amount !== undefined) {
    row.Transaction_amount = fault.amount;
    return;
  }
  const [major, minor = ''] = row.Transaction_amount.split('.');
  row.Transaction_amount = `${BigInt(major as string) + 1n}${minor ? `.${minor}` : ''}`;
}

function checkDate(date: string): void {
  if (!DATE.test(date))
    throw badRequest(`date must be YYYY-MM-DD (GMT+8), got ${JSON.stringify(date)}`);
  gmt8DayBounds(date); // refuses 2026-02-30
}

function checkFault(fault: ReconFault): void {
  const kinds = ['late', 'missing', 'truncated', 'tamper'];
  if (typeof fault !== 'object' || fault === null || !kinds.includes(fault.kind))
    throw badRequest(`a file fault needs "kind": one of ${kinds.join(', ')}`);
  if (fault.kind === 'late' && !(Number.isFinite(fault.ms) && fault.ms >= 0))
    throw badRequest('a late fault needs "ms" >= 0');
  if (
    'file' in fault &&
    fault.file !== undefined &&
    !['transaction', 'settlement'].includes(fault.file)
  )
    throw badRequest('"file" must be transaction or settlement');
}
