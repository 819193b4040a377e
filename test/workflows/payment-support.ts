import { existsSync, writeFileSync } from 'node:fs';
import { after, before } from 'node:test';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { asActivityFailure } from '../../src/activities/payment';
import type {
  CancelOutcome,
  ConfirmPaymentArgs,
  MerchantEvent,
  MerchantHookOutcome,
  PaymentConfirmation,
  PaymentRef,
  RefundOutcome,
  RefundPaymentArgs,
} from '../../src/activities/payment';
import {
  AlipayBusinessError,
  SERVICES,
  type PaymentNotification,
  type TradeStatus,
} from '../../src/alipay';
import { paymentStateQuery } from '../../src/workflows/messages';
import { createTimeSkippingEnv } from '../helpers/temporal';
import type { PaymentState, PaymentStatus } from '../../src/workflows/payment-types';

export const PARTNER = '2088101122136241';

/** One bundle per test file: bundling is the slow part of a Worker. */
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    logger: quietLogger,
  });
  return bundle;
}
const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (m: string) => console.error(m),
};

/** A verified notification as the receiver forwards it (domain form). */
export function notification(
  outTradeNo: string,
  extra: Partial<PaymentNotification> = {},
): PaymentNotification {
  return {
    rawFields: {},
    charset: 'UTF-8',
    signType: 'MD5',
    notifyId: `N-${outTradeNo}`,
    tradeStatus: 'TRADE_SUCCESS',
    outTradeNo,
    tradeNo: `T-${outTradeNo}`,
    partner: PARTNER,
    currency: 'USD',
    totalFee: '10.00',
    amount: { minor: 1000, currency: 'USD' },
    ...extra,
  };
}

/** What the fake Alipay does for one trade: its answers and scripted failures, call by call. */
export interface TradeScript {
  status?: TradeStatus;
  amountMinor?: number;
  currency?: string;
  paidAt?: number;
  /** What `notify_verify` answers (undefined: not asked). */
  notifyVerified?: boolean;
  /** Errors thrown by successive calls of each activity (then the normal answer). */
  fail?: Partial<Record<FakeActivityName, Array<Error | (() => Error)>>>;
  /** Fails every call of these activities. */
  failAlways?: Partial<Record<FakeActivityName, () => Error>>;
  /** The merchant hook of a refund waits for this before it answers (a slow merchant). */
  refundHookGate?: Promise<void>;
  /** Lost answers: the call takes effect at Alipay, then these errors reach the caller. */
  loseAnswerAlways?: Partial<Record<FakeActivityName, () => Error>>;
}

export type FakeActivityName =
  'confirmPayment' | 'cancelPayment' | 'refundPayment' | 'notifyMerchant';

export interface RecordedCall {
  name: FakeActivityName;
  outTradeNo: string;
  args: unknown;
}

/**
 * Honest fakes at the activity boundary: they keep a tiny Alipay (status, amount, refunds by
 * `partner_refund_id`, idempotent like the real one; a cancelled trade refuses REFUND), record
 * every call and fail on script, throwing what the real activities throw ({@link asActivityFailure}).
 */
export class FakeAlipay {
  readonly calls: RecordedCall[] = [];
  private readonly scripts = new Map<string, TradeScript>();
  private readonly refunds = new Map<string, { outTradeNo: string; minor: number }>();
  private readonly cancelled = new Set<string>();

  script(outTradeNo: string, script: TradeScript): void {
    this.scripts.set(outTradeNo, script);
  }

  callsOf(outTradeNo: string, name?: FakeActivityName): RecordedCall[] {
    return this.calls.filter((c) => c.outTradeNo === outTradeNo && (!name || c.name === name));
  }

  refundedMinor(outTradeNo: string): number {
    return [...this.refunds.values()]
      .filter((r) => r.outTradeNo === outTradeNo)
      .reduce((a, r) => a + r.minor, 0);
  }

  private enter(name: FakeActivityName, outTradeNo: string, args: unknown): TradeScript {
    this.calls.push({ name, outTradeNo, args });
    const script = this.scripts.get(outTradeNo) ?? {};
    const always = script.failAlways?.[name];
    if (always) throw asActivityFailure(always());
    const next = script.fail?.[name]?.shift();
    if (next) throw asActivityFailure(typeof next === 'function' ? next() : next);
    return script;
  }

  /** After the call took effect: the answer may still be lost on the way back. */
  private leave(name: FakeActivityName, outTradeNo: string): void {
    const lost = this.scripts.get(outTradeNo)?.loseAnswerAlways?.[name];
    if (lost) throw asActivityFailure(lost());
  }

  activities() {
    return {
      confirmPayment: async (args: ConfirmPaymentArgs): Promise<PaymentConfirmation> => {
        const s = this.enter('confirmPayment', args.outTradeNo, args);
        const currency = s.currency ?? 'USD';
        const amountMinor = s.amountMinor ?? 1000;
        const refunded = this.refundedMinor(args.outTradeNo);
        const closed =
          this.cancelled.has(args.outTradeNo) || (refunded > 0 && refunded >= amountMinor);
        return {
          status: closed ? 'TRADE_CLOSED' : (s.status ?? 'TRADE_SUCCESS'),
          amount: { minor: amountMinor, currency },
          outTradeNo: args.outTradeNo,
          tradeNo: `T-${args.outTradeNo}`,
          ...(s.paidAt !== undefined ? { paidAt: s.paidAt } : {}),
          ...(s.notifyVerified !== undefined ? { notifyVerified: s.notifyVerified } : {}),
        };
      },
      cancelPayment: async (ref: PaymentRef): Promise<CancelOutcome> => {
        this.enter('cancelPayment', ref.outTradeNo, ref);
        this.cancelled.add(ref.outTradeNo);
        this.leave('cancelPayment', ref.outTradeNo);
        return { action: 'refund' };
      },
      refundPayment: async (args: RefundPaymentArgs): Promise<RefundOutcome> => {
        this.enter('refundPayment', args.outTradeNo, args);
        if (this.cancelled.has(args.outTradeNo)) {
          throw asActivityFailure(
            new AlipayBusinessError('business failure', {
              service: SERVICES.REFUND,
              alipayCode: 'TRADE_HAS_CLOSE',
              ids: { outTradeNo: args.outTradeNo, refundId: args.refundId },
            }),
          );
        }
        const prior = this.refunds.get(args.refundId);
        if (!prior)
          this.refunds.set(args.refundId, {
            outTradeNo: args.outTradeNo,
            minor: args.amount.minor,
          });
        this.leave('refundPayment', args.outTradeNo);
        return { refundId: args.refundId, amount: args.amount };
      },
      notifyMerchant: async (event: MerchantEvent): Promise<MerchantHookOutcome> => {
        const script = this.enter('notifyMerchant', event.outTradeNo, event);
        if (event.type === 'refund.succeeded') await script.refundHookGate;
        return { delivered: true, httpStatus: 200 };
      },
    };
  }
}

/** A worker on the given environment running the engine's workflows with these activities. */
export async function startWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  activities: object,
): Promise<{ worker: Worker; running: Promise<void> }> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  return { worker, running: worker.run() };
}

/**
 * Registers the file's `before`/`after` hooks: a time-skipping server and a worker running the
 * engine's workflows with the fake's activities. `onReady` receives the environment.
 */
export function useFakeAlipayWorker(
  taskQueue: string,
  fake: FakeAlipay,
  onReady: (env: TestWorkflowEnvironment) => void | Promise<void>,
  moreActivities: object = {},
): void {
  let env: TestWorkflowEnvironment | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  before(async () => {
    env = await createTimeSkippingEnv();
    ({ worker, running } = await startWorker(env, taskQueue, {
      ...fake.activities(),
      ...moreActivities,
    }));
    await onReady(env);
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });
}

/** Polls the `state` query until `predicate` holds (Updates and signals are asynchronous). */
export async function waitForState(
  handle: WorkflowHandle,
  predicate: (s: PaymentState) => boolean,
  timeoutMs = 20_000,
): Promise<PaymentState> {
  const until = Date.now() + timeoutMs;
  let last: PaymentState | undefined;
  while (Date.now() < until) {
    last = await handle.query(paymentStateQuery);
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`state never matched; last: ${JSON.stringify(last, null, 1)}`);
}

export const waitForStatus = (handle: WorkflowHandle, status: PaymentStatus, timeoutMs?: number) =>
  waitForState(handle, (s) => s.status === status, timeoutMs);

/**
 * Saves a finished workflow's history as a replay fixture when RECORD_HISTORIES=1: the exact
 * protobuf bytes (base64; the SDK's `historyToJSON` trips over duplicate protobufjs copies here)
 * plus the event types, so a reviewer can read what the fixture covers.
 */
export async function maybeRecordHistory(
  handle: WorkflowHandle,
  name: string,
  workflow: 'payment' | 'qrcode' | 'reconciliation' = 'payment',
): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  const fixture: HistoryFixture = {
    workflowId: handle.workflowId,
    events: (history.events ?? []).map(
      (e) => temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType),
    ),
    historyBase64: Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString(
      'base64',
    ),
  };
  // Never over an old fixture: payments recorded with older code must keep replaying.
  const fixtures = path.join(__dirname, '..', 'fixtures');
  let file = path.join(fixtures, `${workflow}-${name}.history.json`);
  for (let v = 2; existsSync(file); v++)
    file = path.join(fixtures, `${workflow}-${name}-v${v}.history.json`);
  writeFileSync(file, `${JSON.stringify(fixture, null, 1)}\n`);
}

/**
 * Terminates a workflow a test is done with, once it has no workflow task or activity in flight:
 * the time-skipping test server (1.40.0) keeps time locked for a task that was running when its
 * workflow was terminated, and the next test's `env.sleep` would then never return.
 */
export async function terminateWhenIdle(handle: WorkflowHandle, reason = 'test done') {
  // The history tells (the test server's describe leaves out the pending workflow task).
  const T = temporal.api.enums.v1.EventType;
  const opens = new Map<number, number>([
    [T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, 1],
    [T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, -1],
    [T.EVENT_TYPE_WORKFLOW_TASK_FAILED, -1],
    [T.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, -1],
    [T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, 1],
    [T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, -1],
    [T.EVENT_TYPE_ACTIVITY_TASK_FAILED, -1],
    [T.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT, -1],
    [T.EVENT_TYPE_ACTIVITY_TASK_CANCELED, -1],
  ]);
  for (let i = 0; i < 250; i++) {
    const events = (await handle.fetchHistory()).events ?? [];
    const inFlight = events.reduce((n, e) => n + (opens.get(e.eventType ?? 0) ?? 0), 0);
    if (inFlight === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await handle.terminate(reason);
}

/** A recorded history as stored in test/fixtures. */
export interface HistoryFixture {
  workflowId: string;
  events: string[];
  historyBase64: string;
}

/** The history of a fixture, ready for `Worker.runReplayHistory`. */
export function historyOf(fixture: HistoryFixture): temporal.api.history.v1.IHistory {
  return temporal.api.history.v1.History.decode(Buffer.from(fixture.historyBase64, 'base64'));
}

/** Moves the test server's clock forward to the next given GMT+8 wall-clock time of day. */
export async function skipToGmt8(
  env: TestWorkflowEnvironment,
  hh: number,
  mm = 0,
  ss = 0,
): Promise<number> {
  const now = await env.currentTimeMs();
  const offset = 8 * 3600_000;
  const day = 24 * 3600_000;
  const startOfDay = now + offset - ((now + offset) % day) - offset;
  let target = startOfDay + ((hh * 60 + mm) * 60 + ss) * 1000;
  if (target <= now + 1000) target += day;
  await env.sleep(target - now);
  return target;
}
