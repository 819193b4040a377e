import { parse } from 'csv-parse/sync';
import { EngineError } from '../errors';
import { InvalidMoneyError, parseMoney } from '../money';
import { InvalidTimestampError, parseGmt8 } from '../time';
import { decode, type Charset } from './charset';
import { CharsetError } from './errors';

/**
 * Alipay's daily reconciliation files (MAPI.md §15) read into domain records: the transaction
 * file (every PAYMENT, REFUND, CANCEL and REVERSAL of a GMT+8 day) and the settlement file. The
 * files' column names stay in this module. Layout [R] (§15 documents only the AlipayHK
 * merchant-QR fields): a header-name line and a header-value line (`Partner`, the day,
 * `Total_count`), a line of column names, one line per record; columns are found by name, so
 * their order and extra columns do not matter. Anything that does not fit is refused as a
 * whole with {@link ReconciliationFileError}: a half-read file must never drive decisions.
 */

/** What a transaction-file record says happened. */
export type FileMovementType = 'PAYMENT' | 'REFUND' | 'CANCEL' | 'REVERSAL';

/** One record of the transaction file, in domain terms. */
export interface TransactionRecord {
  /** Line number in the file (1-based), for evidence notes. */
  line: number;
  type: FileMovementType;
  /**
   * The partner-side ID: the payment's `out_trade_no` for PAYMENT / CANCEL / REVERSAL, the
   * refund ID sent to Alipay (`partner_refund_id`) for REFUND.
   */
  reference: string;
  /** Alipay's transaction ID (`trade_no`) of the payment. */
  tradeNo: string;
  /** Amount in minor units (positive; the type gives the direction) and its currency. */
  amountMinor: number;
  currency: string;
  feeMinor: number;
  /** Epoch ms (the file's `yyyy-MM-dd HH:mm:ss`, GMT+8). */
  at: number;
  storeId?: string;
  remark?: string;
}

/** One record of the settlement file. */
export interface SettlementRecord {
  line: number;
  /** `P` payment or `R` refund (cancels included). */
  kind: 'PAYMENT' | 'REFUND';
  reference: string;
  tradeNo: string;
  amountMinor: number;
  feeMinor: number;
  settlementMinor: number;
  currency: string;
  at: number;
  settledAt: number;
  /** `L` = liquidated. */
  status: string;
}

/** A parsed file: its header and records. */
export interface ReconciliationFile<R> {
  name: string;
  partner: string;
  /** `YYYY-MM-DD` of the header. */
  date: string;
  records: R[];
}

/** A file that cannot be trusted: malformed, truncated, for another partner or day. Not retryable. */
export class ReconciliationFileError extends EngineError {
  readonly code = 'RECONCILIATION_FILE_MALFORMED';
  readonly retryable = false;
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    problem: string,
  ) {
    super(`${file}${line !== undefined ? ` line ${line}` : ''}: ${problem}`);
  }
}

/** What the caller expects the file to be. */
export interface ExpectedFile {
  name: string;
  partner: string;
  /** `YYYY-MM-DD` (GMT+8). */
  date: string;
  charset: Charset;
}

const TRANSACTION_TYPES: readonly FileMovementType[] = ['PAYMENT', 'REFUND', 'CANCEL', 'REVERSAL'];

/** Reads the transaction file of a day. */
export function parseTransactionFile(
  bytes: Uint8Array,
  expected: ExpectedFile,
): ReconciliationFile<TransactionRecord> {
  return parseFile(
    bytes,
    expected,
    [
      'Partner_transaction_id',
      'Transaction_id',
      'Transaction_amount',
      'Charge_amount',
      'Currency',
      'Payment_time',
      'Transaction_type',
    ],
    (get, line, fail) => {
      const type = get('Transaction_type') as FileMovementType;
      if (!TRANSACTION_TYPES.includes(type))
        fail(
          `Transaction_type ${JSON.stringify(type)} is not one of ${TRANSACTION_TYPES.join(', ')}`,
        );
      const currency = get('Currency');
      const storeId = get('Store_id', false);
      const remark = get('Remark', false);
      return {
        line,
        type,
        reference: id(get('Partner_transaction_id'), 'Partner_transaction_id', fail),
        tradeNo: id(get('Transaction_id'), 'Transaction_id', fail),
        amountMinor: amount(
          get('Transaction_amount'),
          currency,
          'Transaction_amount',
          fail,
          type !== 'PAYMENT',
        ),
        currency,
        feeMinor: amount(get('Charge_amount'), currency, 'Charge_amount', fail, true),
        at: time(get('Payment_time'), 'Payment_time', fail),
        ...(storeId ? { storeId } : {}),
        ...(remark ? { remark } : {}),
      };
    },
  );
}

/** Reads the settlement file of a day. */
export function parseSettlementFile(
  bytes: Uint8Array,
  expected: ExpectedFile,
): ReconciliationFile<SettlementRecord> {
  return parseFile(
    bytes,
    expected,
    [
      'Partner_transaction_id',
      'Transaction_id',
      'Amount',
      'Fee',
      'Settlement',
      'Currency',
      'Payment_time',
      'Settlement_time',
      'Type',
      'Status',
    ],
    (get, line, fail) => {
      const type = get('Type');
      if (type !== 'P' && type !== 'R') fail(`Type ${JSON.stringify(type)} is not P or R`);
      const currency = get('Currency');
      const refund = type === 'R';
      return {
        line,
        kind: refund ? 'REFUND' : 'PAYMENT',
        reference: id(get('Partner_transaction_id'), 'Partner_transaction_id', fail),
        tradeNo: id(get('Transaction_id'), 'Transaction_id', fail),
        amountMinor: amount(get('Amount'), currency, 'Amount', fail, refund),
        feeMinor: amount(get('Fee'), currency, 'Fee', fail, true),
        settlementMinor: amount(get('Settlement'), currency, 'Settlement', fail, refund),
        currency,
        at: time(get('Payment_time'), 'Payment_time', fail),
        settledAt: time(get('Settlement_time'), 'Settlement_time', fail),
        status: get('Status'),
      };
    },
  );
}

type Fail = (problem: string) => never;
type Getter = (column: string, required?: boolean) => string;

function parseFile<R>(
  bytes: Uint8Array,
  expected: ExpectedFile,
  required: readonly string[],
  record: (get: Getter, line: number, fail: Fail) => R,
): ReconciliationFile<R> {
  const refuse = (line: number | undefined, problem: string): never => {
    throw new ReconciliationFileError(expected.name, line, problem);
  };
  let text: string;
  try {
    text = decode(bytes, expected.charset);
  } catch (e) {
    if (!(e instanceof CharsetError)) throw e;
    return refuse(undefined, `${e.message}: is the file's charset really ${expected.charset}?`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.length === 0) refuse(undefined, 'the file is empty');
  // Alipay's files end with a line break [R]: a file without one was cut off in transfer.
  if (!text.endsWith('\n')) refuse(undefined, 'the file does not end with a line break: truncated');
  let lines: string[][];
  try {
    lines = parse(text, {
      relax_column_count: true,
      skip_empty_lines: true,
      bom: true,
    }) as string[][];
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    return refuse(line, `not valid CSV (${(e as Error).message})`);
  }
  const [names, values, columns, ...rows] = lines;
  if (!names || !values || !columns) return refuse(undefined, 'the header is incomplete');
  const header = Object.fromEntries(names.map((n, i) => [n.trim(), (values[i] ?? '').trim()]));
  if (header.Partner === undefined || header.Total_count === undefined)
    refuse(1, 'the header needs Partner and Total_count');
  if (header.Partner !== expected.partner)
    refuse(2, `the file is for partner ${header.Partner}, not ${expected.partner}`);
  const date = Object.values(header).find((v) => /^\d{4}-\d{2}-\d{2}$/.test(v));
  if (date !== expected.date)
    refuse(2, `the file is for day ${String(date)}, not ${expected.date}`);
  const index = new Map(columns.map((c, i) => [c.trim(), i]));
  const absent = required.filter((c) => !index.has(c));
  if (absent.length > 0) refuse(3, `columns missing: ${absent.join(', ')}`);
  if (!/^\d+$/.test(header.Total_count as string))
    refuse(2, `Total_count ${header.Total_count} is not a count`);
  if (Number(header.Total_count) !== rows.length)
    refuse(
      undefined,
      `Total_count says ${header.Total_count} records, the file has ${rows.length}: truncated or padded`,
    );
  const records = rows.map((row, i) => {
    const line = i + 4;
    const fail: Fail = (problem) => refuse(line, problem);
    if (row.length !== columns.length)
      fail(`${row.length} fields where the column line has ${columns.length}`);
    const get: Getter = (column, req = true) => {
      const at = index.get(column);
      const value = at === undefined ? '' : (row[at] ?? '').trim();
      if (req && value === '') fail(`${column} is empty`);
      return value;
    };
    return record(get, line, fail);
  });
  return { name: expected.name, partner: expected.partner, date: expected.date, records };
}

function id(value: string, column: string, fail: Fail): string {
  if (!/^[\w.-]{1,64}$/.test(value)) fail(`${column} ${JSON.stringify(value)} is not an ID`);
  return value;
}

function amount(
  value: string,
  currency: string,
  column: string,
  fail: Fail,
  mayBeNegative: boolean,
): number {
  // [R] Refund rows may carry a sign; the type says the direction, so the magnitude is kept.
  const negative = value.startsWith('-');
  if (negative && !mayBeNegative) fail(`${column} ${value} is negative`);
  try {
    return parseMoney(negative ? value.slice(1) : value, currency).minor;
  } catch (e) {
    if (e instanceof InvalidMoneyError)
      return fail(`${column} ${JSON.stringify(value)} ${currency}: ${e.message}`);
    throw e;
  }
}

function time(value: string, column: string, fail: Fail): number {
  try {
    return parseGmt8(value);
  } catch (e) {
    if (e instanceof InvalidTimestampError)
      return fail(`${column} ${JSON.stringify(value)} is not yyyy-MM-dd HH:mm:ss`);
    throw e;
  }
}
