/**
 * `npm run reconcile -- --date YYYY-MM-DD`: reconciles one GMT+8 day against Alipay's files now
 * (the ReconciliationWorkflow, on the running engine's task queue) and prints the report.
 */
import { Client, Connection } from '@temporalio/client';
import { InvalidRequestError } from '../src/client-errors';
import { loadConfig } from '../src/config';
import { ReconciliationRuns } from '../src/reconciliation/runs';
import { isCalendarDate, type ReconciliationReport } from '../src/workflows/reconciliation-types';

const HELP = `Reconciles one GMT+8 day against Alipay's transaction and settlement files.

Usage: npm run reconcile -- --date YYYY-MM-DD [--wait-for-files MINUTES] [--grace MINUTES] [--json]

  --date             the GMT+8 day (required)
  --wait-for-files   keep looking for missing files this long (default 0: one look)
  --grace            engine movements younger than this are not expected in the file (default 15)
  --json             print the whole report as JSON

Needs a running engine (npm start, or a worker on ENGINE_TASK_QUEUE) and the same environment.
Exit code: 0 reconciled without discrepancies, 2 reconciled with discrepancies,
1 files missing or refused, or an error.`;

function parseArgs(argv: string[]) {
  const out: { date?: string; waitMinutes?: number; graceMinutes?: number; json: boolean } = {
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${arg} needs a value`);
      return v;
    };
    const minutes = (v: string) => {
      if (!/^\d+$/.test(v)) throw new Error(`${arg} must be a whole number of minutes`);
      return Number(v);
    };
    if (arg === '--date') out.date = value();
    else if (arg === '--wait-for-files') out.waitMinutes = minutes(value());
    else if (arg === '--grace') out.graceMinutes = minutes(value());
    else if (arg === '--json') out.json = true;
    else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  if (!out.date) throw new Error('--date YYYY-MM-DD is required (try --help)');
  if (!isCalendarDate(out.date))
    throw new Error(`--date ${out.date} is not a calendar day YYYY-MM-DD`);
  return out as typeof out & { date: string };
}

function print(report: ReconciliationReport): void {
  const lines = [
    `${report.date}: ${report.status} (${report.attempts} look${report.attempts === 1 ? '' : 's'})`,
    ...(report.files
      ? [
          `files: ${report.files.transaction} (${report.files.records} records), ${report.files.settlement}`,
        ]
      : []),
    `records: ${Object.entries(report.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    ...Object.entries(report.totals).map(
      ([c, t]) =>
        `${c}: payments ${t.payments}, refunds ${t.refunds}, fees ${t.fees}, settlement ${t.settlement}`,
    ),
    ...report.actions.map(
      (a) =>
        `action: ${a.kind} ${a.outTradeNo} ${a.result}${a.status ? ` -> ${a.status}` : ''}${a.detail ? ` (${a.detail})` : ''}`,
    ),
    ...(report.error ? [`problem: ${report.error}`] : []),
    `discrepancies: ${report.discrepancies.length}`,
    ...report.discrepancies.map(
      (d) => `  ${d.kind}${d.line !== undefined ? ` ${d.file} line ${d.line}` : ''}: ${d.detail}`,
    ),
  ];
  console.log(lines.join('\n'));
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const args = parseArgs(argv);
  const config = loadConfig();
  const connection = await Connection.connect(config.temporal.connection);
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const runs = new ReconciliationRuns(
      client,
      config.alipay.gateway.partner,
      config.temporal.taskQueue,
    );
    const { report } = await runs.start(args.date, {
      wait: true,
      ...(args.waitMinutes !== undefined ? { fileDeadlineMs: args.waitMinutes * 60_000 } : {}),
      ...(args.graceMinutes !== undefined ? { graceMs: args.graceMinutes * 60_000 } : {}),
    });
    if (!report) throw new Error('no report');
    if (args.json) console.log(JSON.stringify(report, null, 2));
    else print(report);
    if (report.status !== 'RECONCILED') return 1;
    return report.discrepancies.length > 0 ? 2 : 0;
  } finally {
    await connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message =
      err instanceof InvalidRequestError
        ? err.message
        : err instanceof Error
          ? err.message
          : String(err);
    console.error(`reconcile: ${message}`);
    process.exit(1);
  },
);
