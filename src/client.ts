import { randomUUID } from 'node:crypto';
import {
  Client,
  Connection,
  ServiceError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  WorkflowUpdateStage,
  isGrpcDeadlineError,
  isGrpcServiceError,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  ApplicationFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/common';
import { validateQrCodeInput, AlipayRequestValidationError, type QrCodeInput } from './alipay';
import {
  EngineUnavailableError,
  InvalidRequestError,
  OperationFailedError,
  PaymentNotFoundError,
  QrCodeNotFoundError,
  RefundNotFoundError,
  RequestRejectedError,
} from './client-errors';
import type { EngineConfig } from './config';
import { parseMoney, InvalidMoneyError } from './money';
import {
  queryLiteral,
  readPageToken,
  summaryOfExecution,
  writePageToken,
  type PaymentPage,
} from './payment-listing';
import {
  cancelPaymentUpdate,
  expectPaymentUpdate,
  modifyQrCodeUpdate,
  paymentStateQuery,
  qrCodeStateQuery,
  refundPaymentUpdate,
  setQrCodeStatusUpdate,
  withdrawExpectedPaymentUpdate,
} from './workflows/messages';
import {
  PAYMENT_UPDATE_FAILED,
  PAYMENT_STATUSES,
  PAYMENT_UPDATE_REJECTED,
  paymentWorkflowId,
  type PaymentState,
  type PaymentStatus,
  type RefundEntry,
  type UpdateRejection,
} from './workflows/payment-types';
import {
  QR_CODE_GATEWAY_FAILED,
  QR_CODE_UPDATE_REJECTED,
  qrCodeWorkflowId,
  type CounterOrder,
  type ExpectPaymentRequest,
  type QrCodeState,
  type QrCodeStatusChange,
  type UnmatchedPaymentPolicy,
} from './workflows/qrcode-types';

export * from './client-errors';
export type { PaymentPage, PaymentSummary } from './payment-listing';
export type { CounterOrder, ExpectPaymentRequest, PaymentState, QrCodeState, RefundEntry };

export interface EngineClientOptions {
  /** A connected Temporal client (its namespace is the engine's). */
  client: Client;
  /** The Alipay partner the engine signs for: part of every workflow ID. */
  partnerId: string;
  /** The engine's task queue (where new code workflows run). */
  taskQueue: string;
  /** How long a query may take (a worker must answer it). Default 10 s. */
  queryTimeoutMs?: number;
  /** How long a refund, cancel or code change may take (Alipay answers inside). Default 60 s. */
  updateTimeoutMs?: number;
  /** How long `createCode` waits for Alipay's CREATE. Default 60 s. */
  createTimeoutMs?: number;
  /**
   * How long `refund` waits for the refund's outcome before it answers the still PENDING ledger
   * entry (the refund goes on durably; `getRefund` tells how it ended). Default 10 s.
   */
  refundWaitMs?: number;
}

export interface RefundArgs {
  /** Stable per intended refund; repeating a refund with the same ID returns its first result. */
  refundId: string;
  /** Decimal string in the payment's currency, e.g. `"12.50"`. */
  amount: string;
  currency?: string;
  reason?: string;
}

/** A refund's ledger entry as `refund` answers it. */
export type RefundAnswer = RefundEntry & {
  /**
   * True when the refund ID had been used before with the same parameters: this is the first
   * request's refund (nothing new was sent to Alipay).
   */
  replayed?: boolean;
};

export interface ListPaymentsOptions {
  status?: PaymentStatus;
  /** 1..100, default 20. */
  pageSize?: number;
  pageToken?: string;
}

export { PAYMENT_STATUSES };

/**
 * The engine for merchant services that talk to Temporal directly: codes, payments, refunds and
 * cancels, with the same rules and the same typed errors as the HTTP API (which is built on it).
 * Every operation is a workflow message; nothing here talks to Alipay.
 *
 * ```ts
 * const engine = await PaymentEngineClient.connect(loadConfig());
 * const entry = await engine.refund('2024010100000000001', { refundId: 'R-1', amount: '2.50' });
 * ```
 */
export class PaymentEngineClient {
  readonly partnerId: string;
  readonly #client: Client;
  readonly #taskQueue: string;
  readonly #queryTimeoutMs: number;
  readonly #updateTimeoutMs: number;
  readonly #createTimeoutMs: number;
  readonly #refundWaitMs: number;
  #ownedConnection?: Connection;

  constructor(options: EngineClientOptions) {
    this.#client = options.client;
    this.partnerId = options.partnerId;
    this.#taskQueue = options.taskQueue;
    this.#queryTimeoutMs = options.queryTimeoutMs ?? 10_000;
    this.#updateTimeoutMs = options.updateTimeoutMs ?? 60_000;
    this.#createTimeoutMs = options.createTimeoutMs ?? 60_000;
    this.#refundWaitMs = options.refundWaitMs ?? 10_000;
  }

  /** Connects to the configured Temporal (envconfig conventions); `close()` releases it. */
  static async connect(config: EngineConfig): Promise<PaymentEngineClient> {
    const connection = await Connection.connect(config.temporal.connection).catch((err) => {
      throw new EngineUnavailableError(`cannot reach Temporal: ${messageOf(err)}`, { cause: err });
    });
    const engine = new PaymentEngineClient({
      client: new Client({ connection, namespace: config.temporal.namespace }),
      partnerId: config.alipay.gateway.partner,
      taskQueue: config.temporal.taskQueue,
      refundWaitMs: config.http.refundWaitMs,
    });
    engine.#ownedConnection = connection;
    return engine;
  }

  /** The underlying Temporal client (for health checks and operator tooling). */
  get temporal(): Client {
    return this.#client;
  }

  async close(): Promise<void> {
    await this.#ownedConnection?.close();
  }

  // ---- codes -------------------------------------------------------------------------------

  /**
   * Get-or-create the code of a store slot (with or without a channel fee) and wait until Alipay
   * created it. An existing code is returned as it is (`created: false`); change it with
   * {@link modifyCode}.
   */
  async createCode(
    info: QrCodeInput,
    options: { unmatchedPayments?: UnmatchedPaymentPolicy } = {},
  ): Promise<{ created: boolean; code: QrCodeState }> {
    checkCodeInput(info);
    const withFee = info.channelFee !== undefined;
    const workflowId = qrCodeWorkflowId(this.partnerId, info.storeId, withFee);
    let created = true;
    const handle = await this.#call(() =>
      this.#client.workflow.start('MerchantQrCodeWorkflow', {
        taskQueue: this.#taskQueue,
        workflowId,
        args: [{ partnerId: this.partnerId, info, ...options }],
        // An existing code is kept as it is; a deleted code's finished workflow may start again.
        workflowIdConflictPolicy: 'FAIL',
        staticSummary: `Alipay QR code of store ${info.storeId}${withFee ? ' (with channel fee)' : ''}`,
      }),
    ).catch((err) => {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      created = false;
      return this.#client.workflow.getHandle(workflowId);
    });
    const deadline = Date.now() + this.#createTimeoutMs;
    for (;;) {
      const code = await this.#queryCode(handle, info.storeId, withFee);
      if (code.status !== 'CREATING') return { created, code };
      if (Date.now() > deadline)
        throw new EngineUnavailableError(`CREATE of store ${info.storeId} is still running`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async getCode(storeId: string, withFee = false): Promise<QrCodeState> {
    return this.#queryCode(this.#codeHandle(storeId, withFee), storeId, withFee);
  }

  /** MODIFY: the complete new data (immutable fields and the fee slot must stay). */
  async modifyCode(storeId: string, withFee: boolean, info: QrCodeInput): Promise<QrCodeState> {
    checkCodeInput(info);
    return this.#codeUpdate(storeId, withFee, (h) =>
      h.executeUpdate(modifyQrCodeUpdate, { args: [info] }),
    );
  }

  /** STOP, RESTART or DELETE (final) the code of a store slot. */
  async setCodeStatus(
    storeId: string,
    withFee: boolean,
    change: QrCodeStatusChange,
  ): Promise<QrCodeState> {
    return this.#codeUpdate(storeId, withFee, (h) =>
      h.executeUpdate(setQrCodeStatusUpdate, { args: [change] }),
    );
  }

  /**
   * Tells the store's code what the till expects ("88.00 USD for order 123"): the next payment of
   * that amount settles the order; while orders are pending, other payments follow the store's
   * policy (reversed by default).
   */
  async expectPayment(
    storeId: string,
    withFee: boolean,
    order: ExpectPaymentRequest,
  ): Promise<CounterOrder> {
    return this.#codeUpdate(storeId, withFee, (h) =>
      h.executeUpdate(expectPaymentUpdate, { args: [order] }),
    );
  }

  async withdrawExpectedPayment(
    storeId: string,
    withFee: boolean,
    orderId: string,
  ): Promise<QrCodeState> {
    return this.#codeUpdate(storeId, withFee, (h) =>
      h.executeUpdate(withdrawExpectedPaymentUpdate, { args: [{ orderId }] }),
    );
  }

  // ---- payments ----------------------------------------------------------------------------

  /** Everything about one payment: status, amounts, ledger, timeline. */
  async getPayment(outTradeNo: string): Promise<PaymentState> {
    const handle = this.#paymentHandle(outTradeNo);
    return this.#withDeadline(this.#queryTimeoutMs, () => handle.query(paymentStateQuery)).catch(
      (err) => {
        throw this.#paymentError(err, outTradeNo);
      },
    );
  }

  /**
   * Payments of a store from the visibility store (search attributes), most recent first. Page
   * tokens are the engine's own (bound to this listing, checked before Temporal sees them): a
   * token that is not from a previous page of the same listing is refused at once.
   */
  async listStorePayments(
    storeId: string,
    options: ListPaymentsOptions = {},
  ): Promise<PaymentPage> {
    checkStoreId(storeId);
    const pageSize = options.pageSize ?? 20;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100)
      throw new InvalidRequestError('pageSize', 'must be an integer from 1 to 100');
    if (options.status !== undefined && !PAYMENT_STATUSES.includes(options.status))
      throw new InvalidRequestError('status', `must be one of ${PAYMENT_STATUSES.join(', ')}`);
    const query = [
      `WorkflowType = "PaymentWorkflow"`,
      `AlipayPartnerId = ${queryLiteral(this.partnerId)}`,
      `AlipayStoreId = ${queryLiteral(storeId)}`,
      ...(options.status ? [`PaymentStatus = ${queryLiteral(options.status)}`] : []),
    ].join(' AND ');
    const nextPageToken =
      options.pageToken === undefined ? undefined : readPageToken(options.pageToken, query);
    const response = await this.#withDeadline(this.#queryTimeoutMs, () =>
      this.#client.workflowService.listWorkflowExecutions({
        namespace: this.#client.options.namespace,
        query,
        pageSize,
        ...(nextPageToken ? { nextPageToken } : {}),
      }),
    );
    const token = response.nextPageToken;
    return {
      payments: (response.executions ?? []).map(summaryOfExecution),
      ...(token && token.length > 0 ? { nextPageToken: writePageToken(token, query) } : {}),
    };
  }

  /**
   * Refunds part or all of the remaining balance; answers the ledger entry. Idempotent by
   * `refundId`: a repeat with the same parameters (also after a timeout, or once the payment has
   * finished) answers the first request's entry marked `replayed`; other parameters under a used
   * ID are refused (`RequestRejectedError` CONFLICT, field `refundId`).
   *
   * Waits at most `refundWaitMs` for the outcome; a refund still running then is answered as its
   * PENDING ledger entry (it goes on durably: see {@link getRefund}).
   */
  async refund(outTradeNo: string, args: RefundArgs): Promise<RefundAnswer> {
    checkRefundArgs(args);
    const handle = this.#paymentHandle(outTradeNo);
    const deadline = Date.now() + this.#refundWaitMs;
    let update;
    try {
      // Each request is its own Update (never an ID derived from the refund ID alone): Temporal
      // would answer a repeated Update ID from its record without running the validator, so a
      // reused refund ID with another amount would get the first refund back instead of a 409.
      // The workflow itself answers a repeat with the same parameters from its ledger.
      update = await this.#client.connection.withDeadline(deadline, () =>
        handle.startUpdate(refundPaymentUpdate, {
          args: [args],
          updateId: `refund/${args.refundId}/${randomUUID()}`,
          waitForStage: WorkflowUpdateStage.ACCEPTED,
        }),
      );
    } catch (err) {
      if (isFinishedError(err)) return this.#refundOfFinished(handle, outTradeNo, args);
      throw await this.#paymentUpdateError(err, handle, outTradeNo);
    }
    try {
      return await this.#client.connection.withDeadline(deadline, () => update.result());
    } catch (err) {
      const translated = translate(err);
      if (!(translated instanceof EngineUnavailableError)) throw translated;
      // Still running (a slow Alipay): answer the ledger entry; the refund goes on durably.
      const state = await this.getPayment(outTradeNo);
      const entry = state.refunds.find((r) => r.refundId === args.refundId);
      if (!entry) throw translated;
      return entry;
    }
  }

  /** One refund's ledger entry (`PENDING` while it runs). */
  async getRefund(outTradeNo: string, refundId: string): Promise<RefundEntry> {
    const state = await this.getPayment(outTradeNo);
    const entry = state.refunds.find((r) => r.refundId === refundId);
    if (!entry) throw new RefundNotFoundError(outTradeNo, refundId);
    return entry;
  }

  /** CANCEL the whole payment (only on its GMT+8 payment day and before any refund). */
  async cancel(outTradeNo: string, reason?: string): Promise<PaymentState> {
    const handle = this.#paymentHandle(outTradeNo);
    return this.#withDeadline(this.#updateTimeoutMs, () =>
      handle.executeUpdate(cancelPaymentUpdate, { args: [reason ? { reason } : {}] }),
    ).catch(async (err) => {
      throw await this.#paymentUpdateError(err, handle, outTradeNo);
    });
  }

  /** How many payments of this partner are in each status right now (visibility counts). */
  async countPaymentsByStatus(): Promise<Record<PaymentStatus, number>> {
    const counts = await Promise.all(
      PAYMENT_STATUSES.map((status) =>
        this.#call(() =>
          this.#client.workflow.count(
            `WorkflowType = "PaymentWorkflow" AND AlipayPartnerId = ${queryLiteral(this.partnerId)} AND PaymentStatus = "${status}"`,
          ),
        ).then((c) => [status, c.count] as const),
      ),
    );
    return Object.fromEntries(counts) as Record<PaymentStatus, number>;
  }

  // ---- internals ---------------------------------------------------------------------------

  #paymentHandle(outTradeNo: string): WorkflowHandle {
    if (typeof outTradeNo !== 'string' || !/^[\w.-]{1,64}$/.test(outTradeNo))
      throw new InvalidRequestError('outTradeNo', 'must be 1-64 letters, digits, _ . or -');
    return this.#client.workflow.getHandle(paymentWorkflowId(this.partnerId, outTradeNo));
  }

  #codeHandle(storeId: string, withFee: boolean): WorkflowHandle {
    checkStoreId(storeId);
    return this.#client.workflow.getHandle(qrCodeWorkflowId(this.partnerId, storeId, withFee));
  }

  async #queryCode(handle: WorkflowHandle, storeId: string, withFee: boolean) {
    const code = await this.#withDeadline(this.#queryTimeoutMs, () =>
      handle.query(qrCodeStateQuery),
    ).catch((err) => {
      throw err instanceof WorkflowNotFoundError
        ? new QrCodeNotFoundError(storeId, withFee)
        : translate(err);
    });
    // A deleted code's workflow has finished: the slot is free again.
    if (code.status === 'DELETED') throw new QrCodeNotFoundError(storeId, withFee);
    return code;
  }

  async #codeUpdate<T>(
    storeId: string,
    withFee: boolean,
    update: (handle: WorkflowHandle) => Promise<T>,
  ): Promise<T> {
    const handle = this.#codeHandle(storeId, withFee);
    return this.#withDeadline(this.#updateTimeoutMs, () => update(handle)).catch(async (err) => {
      // A refusal is an answer from a running code; anything else may mean the code is gone.
      if (err instanceof RequestRejectedError) throw err;
      if (err instanceof WorkflowNotFoundError || (await isFinished(handle)))
        throw new QrCodeNotFoundError(storeId, withFee);
      throw translate(err);
    });
  }

  #paymentError(err: unknown, outTradeNo: string): Error {
    return err instanceof WorkflowNotFoundError
      ? new PaymentNotFoundError(outTradeNo)
      : translate(err);
  }

  /**
   * A refund asked of a payment whose workflow has finished (fully refunded, window over): the
   * final state still answers. The same parameters under a used refund ID answer its entry as a
   * replay; anything else is a conflict.
   */
  async #refundOfFinished(
    handle: WorkflowHandle,
    outTradeNo: string,
    args: RefundArgs,
  ): Promise<RefundAnswer> {
    const state = await this.#withDeadline(this.#queryTimeoutMs, () =>
      handle.query(paymentStateQuery),
    ).catch((err) => {
      throw this.#paymentError(err, outTradeNo);
    });
    const entry = state.refunds.find((r) => r.refundId === args.refundId);
    if (!entry)
      throw new RequestRejectedError('CONFLICT', `the payment is finished (${state.status})`);
    if (!sameRefund(entry, args))
      throw new RequestRejectedError(
        'CONFLICT',
        `refundId ${args.refundId} was already used with other parameters (${entry.amount} ${entry.currency})`,
        'refundId',
      );
    return { ...entry, replayed: true };
  }

  /** An Update on a finished payment is a conflict (window over, reversed), not "not found". */
  async #paymentUpdateError(
    err: unknown,
    handle: WorkflowHandle,
    outTradeNo: string,
  ): Promise<Error> {
    if (err instanceof WorkflowNotFoundError || isFinishedError(err)) {
      const status = await handle
        .query(paymentStateQuery)
        .then((s) => s.status)
        .catch(() => undefined);
      if (status === undefined) return new PaymentNotFoundError(outTradeNo);
      return new RequestRejectedError('CONFLICT', `the payment is finished (${status})`);
    }
    return translate(err);
  }

  async #withDeadline<T>(ms: number, fn: () => Promise<T>): Promise<T> {
    return this.#call(() => this.#client.connection.withDeadline(Date.now() + ms, fn));
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translate(err);
    }
  }
}

/** Temporal's errors -> the client's; errors already typed pass through. */
function translate(err: unknown): Error {
  if (
    err instanceof RequestRejectedError ||
    err instanceof OperationFailedError ||
    err instanceof EngineUnavailableError ||
    err instanceof InvalidRequestError ||
    err instanceof WorkflowNotFoundError ||
    err instanceof WorkflowExecutionAlreadyStartedError
  ) {
    return err;
  }
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) {
      if (cause.type === PAYMENT_UPDATE_REJECTED || cause.type === QR_CODE_UPDATE_REJECTED) {
        const detail = cause.details?.[0] as UpdateRejection | undefined;
        return new RequestRejectedError(detail?.kind ?? 'CONFLICT', cause.message, detail?.field);
      }
      if (cause.type === PAYMENT_UPDATE_FAILED || cause.type === QR_CODE_GATEWAY_FAILED)
        return new OperationFailedError(cause.message);
    }
    return new OperationFailedError(cause?.message ?? err.message);
  }
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(err))
    return new EngineUnavailableError('no answer in time; repeat the request to get its result', {
      cause: err,
    });
  // Any other trouble talking to Temporal (unreachable, the in-flight Update limit of a workflow
  // (RESOURCE_EXHAUSTED), a failing visibility store...) is worth repeating later. The server's
  // own text stays in `cause` (logged), never in the message a merchant sees.
  if (err instanceof ServiceError || isGrpcServiceError(err))
    return new EngineUnavailableError('Temporal is unavailable; repeat the request later', {
      cause: err,
    });
  return err instanceof Error ? err : new Error(String(err));
}

/** The workflow has already finished (Temporal answers so for Updates on a closed execution). */
function isFinishedError(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (/already completed|workflow execution.*(completed|closed)/i.test(e.message)) return true;
    if (isGrpcServiceError(e) && /already completed/i.test(e.details ?? '')) return true;
  }
  return false;
}

/** The same refund request as the ledger entry (the workflow validator's rule, in the client). */
function sameRefund(entry: RefundEntry, args: RefundArgs): boolean {
  if (entry.reversal) return false;
  if (args.currency !== undefined && args.currency !== entry.currency) return false;
  if ((entry.reason ?? '') !== (args.reason ?? '')) return false;
  try {
    return parseMoney(args.amount, entry.currency).minor === entry.amountMinor;
  } catch {
    return false;
  }
}

/** Store IDs as the engine accepts them (also what makes a safe visibility query). */
function checkStoreId(storeId: string): void {
  if (typeof storeId !== 'string' || !/^[\w-]{1,32}$/.test(storeId))
    throw new InvalidRequestError('storeId', 'must be 1-32 letters, digits, _ or -');
}

async function isFinished(handle: WorkflowHandle): Promise<boolean> {
  try {
    const d = await handle.describe();
    return d.status.name !== 'RUNNING';
  } catch {
    return false;
  }
}

function checkCodeInput(info: QrCodeInput): void {
  if (typeof info !== 'object' || info === null)
    throw new InvalidRequestError('body', 'must be a JSON object with the code data');
  try {
    validateQrCodeInput(info);
  } catch (err) {
    if (err instanceof AlipayRequestValidationError)
      throw new InvalidRequestError(err.field, err.reason);
    throw err;
  }
}

function checkRefundArgs(args: RefundArgs): void {
  if (typeof args?.refundId !== 'string' || !/^[\w.:-]{1,64}$/.test(args.refundId))
    throw new InvalidRequestError('refundId', 'must be 1-64 letters, digits, _ . : or -');
  if (typeof args.amount !== 'string')
    throw new InvalidRequestError('amount', 'must be a decimal string such as "12.50"');
  if (args.currency !== undefined) {
    try {
      parseMoney(args.amount, args.currency);
    } catch (err) {
      if (err instanceof InvalidMoneyError) throw new InvalidRequestError('amount', err.message);
      throw err;
    }
  }
  if (args.reason !== undefined && (typeof args.reason !== 'string' || args.reason.length > 256))
    throw new InvalidRequestError('reason', 'must be a string of at most 256 characters');
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
