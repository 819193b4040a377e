import {
  isGrpcServiceError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import type { PaymentNotification } from '../alipay';
import { admitPaymentUpdate, paymentNotifiedSignal } from '../workflows/messages';
import { paymentWorkflowId, type PaymentWorkflowInput } from '../workflows/payment-types';
import { qrCodeWorkflowId, type PaymentAdmission } from '../workflows/qrcode-types';

export interface IntakeOptions {
  client: Client;
  partnerId: string;
  taskQueue: string;
  refundWindowMs: number;
  /** How long the store's code may take to admit a payment before we go on without it. */
  admissionTimeoutMs?: number;
  /**
   * How long Temporal may take to accept the signal (default 5 s). Past it Alipay is answered
   * non-success and retries: better than holding its connection through an outage.
   */
  signalTimeoutMs?: number;
  /** Warnings worth an operator's attention (admission skipped). */
  warn?: (msg: string, fields: Record<string, unknown>) => void;
}

/** What happened to a verified notification. */
export type IntakeResult =
  | { outcome: 'SIGNALLED'; workflowId: string; admission?: PaymentAdmission }
  /** The payment's workflow had already finished: nothing left to do, acknowledge. */
  | { outcome: 'ALREADY_FINISHED'; workflowId: string };

/**
 * Hands a verified notification to Temporal: asks the store's code workflow to admit the payment
 * (is the code active, which counter order does it settle), then signal-with-starts the one
 * PaymentWorkflow of the trade. Throws when Temporal did not take the signal; the receiver then
 * answers non-success and Alipay retries (nothing is lost, and the admission is idempotent).
 */
export class NotificationIntake {
  readonly #o: IntakeOptions;

  constructor(options: IntakeOptions) {
    this.#o = options;
  }

  async forward(n: PaymentNotification & { outTradeNo: string }): Promise<IntakeResult> {
    const { client, partnerId, taskQueue, refundWindowMs } = this.#o;
    const workflowId = paymentWorkflowId(partnerId, n.outTradeNo);
    const admission = await this.#admit(n);
    const input: PaymentWorkflowInput = {
      partnerId,
      outTradeNo: n.outTradeNo,
      refundWindowMs,
      ...(admission ? { codeActive: admission.codeActive } : {}),
      ...(admission?.expected ? { expected: admission.expected } : {}),
    };
    try {
      await client.connection.withDeadline(Date.now() + (this.#o.signalTimeoutMs ?? 5000), () =>
        client.workflow.signalWithStart('PaymentWorkflow', {
          taskQueue,
          workflowId,
          args: [input],
          signal: paymentNotifiedSignal,
          signalArgs: [n],
          // A finished payment is never started again: a second run would have an empty ledger.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          staticSummary: summaryOf(n),
          staticDetails: detailsOf(n, admission),
        }),
      );
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        return { outcome: 'ALREADY_FINISHED', workflowId };
      throw err;
    }
    return { outcome: 'SIGNALLED', workflowId, ...(admission ? { admission } : {}) };
  }

  /**
   * Asks the store's code workflows (no-fee slot first) to admit the payment. Undefined when the
   * engine does not manage the store's code (created elsewhere) or the notification names no
   * store: the payment is then taken without that check. A running code workflow that does not
   * know the paid code means the code is unknown: the payment will be reversed.
   */
  async #admit(n: PaymentNotification & { outTradeNo: string }) {
    if (!n.storeId) return undefined;
    const { client, partnerId } = this.#o;
    const amount = n.pricingAmount ?? n.totalFee;
    const currency = n.pricingAmount ? n.pricingCurrency : n.currency;
    let sawRunningCode = false;
    for (const withFee of [false, true]) {
      const handle = client.workflow.getHandle(qrCodeWorkflowId(partnerId, n.storeId, withFee));
      try {
        const admission = await client.connection.withDeadline(
          Date.now() + (this.#o.admissionTimeoutMs ?? 5000),
          () =>
            handle.executeUpdate(admitPaymentUpdate, {
              args: [
                {
                  outTradeNo: n.outTradeNo,
                  ...(n.qrcode ? { qrcode: n.qrcode } : {}),
                  ...(amount ? { amount } : {}),
                  ...(currency ? { currency } : {}),
                },
              ],
              updateId: `admit/${n.outTradeNo}`,
            }),
        );
        if (admission.codeMatches) return admission;
        sawRunningCode = true;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || isFinishedWorkflowError(err)) continue;
        if (isUnavailable(err)) throw err;
        // The code workflow did not answer in time (no worker?): never hold a payment for it.
        this.#o.warn?.('payment admitted without the code check', {
          outTradeNo: n.outTradeNo,
          storeId: n.storeId,
          reason: err instanceof Error ? err.message : String(err),
        });
        return undefined;
      }
    }
    return sawRunningCode ? { codeMatches: false, codeActive: false } : undefined;
  }
}

function isFinishedWorkflowError(err: unknown): boolean {
  return (
    err instanceof Error &&
    /already completed|workflow execution .*(closed|completed)/i.test(err.message)
  );
}

/** Temporal itself is unreachable (not a slow worker). */
function isUnavailable(err: unknown): boolean {
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return false;
  return isGrpcServiceError(err) && err.code === 14; // UNAVAILABLE
}

/** One line for the Web UI's workflow list. */
function summaryOf(n: PaymentNotification): string {
  const amount = n.pricingAmount ?? n.totalFee;
  const currency = n.pricingAmount ? n.pricingCurrency : n.currency;
  return [
    `Alipay payment ${n.outTradeNo}`,
    n.storeId ? `store ${n.storeId}` : undefined,
    amount && currency ? `${amount} ${currency}` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
}

/** Markdown shown on the workflow page: where the payment came from. */
function detailsOf(n: PaymentNotification, admission: PaymentAdmission | undefined): string {
  const rows: Array<[string, string | undefined]> = [
    ['Alipay trade', n.tradeNo],
    ['Store', n.storeId],
    ['Code', n.qrcode],
    ['Paid', n.totalFee && n.currency ? `${n.totalFee} ${n.currency}` : undefined],
    ['First notification', n.notifyId],
    [
      'Admission',
      admission === undefined
        ? 'code not managed by the engine (not checked)'
        : admission.codeActive
          ? admission.expected
            ? `expects ${admission.expected.amount} ${admission.expected.currency}${admission.expected.orderId ? ` (order ${admission.expected.orderId})` : ''}`
            : 'walk-in payment on an active code'
          : 'code unknown or not active: will be reversed',
    ],
  ];
  return rows
    .filter((row): row is [string, string] => row[1] !== undefined)
    .map(([k, v]) => `**${k}:** ${v}`)
    .join('  \n');
}
