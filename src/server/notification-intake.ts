import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { PaymentNotification } from '../alipay';
import type { PaymentSettings } from '../config';
import { paymentNotifiedSignal } from '../workflows/messages';
import { paymentWorkflowId, type PaymentWorkflowInput } from '../workflows/payment-types';

export interface IntakeOptions {
  client: Client;
  partnerId: string;
  taskQueue: string;
  /** What new payments run with: recorded in their input. */
  payments: PaymentSettings;
  /**
   * How long Temporal may take to accept the signal (default 5 s). Past it Alipay is answered
   * non-success and retries: better than holding its connection through an outage.
   */
  signalTimeoutMs?: number;
}

/** What happened to a verified notification. */
export type IntakeResult =
  | { outcome: 'SIGNALLED'; workflowId: string }
  /** The payment's workflow had already finished: nothing left to do, acknowledge. */
  | { outcome: 'ALREADY_FINISHED'; workflowId: string };

/**
 * Hands a verified notification to Temporal in exactly one call: signal-with-start of the one
 * PaymentWorkflow of the trade. Nothing else sits between verification and that call: the
 * payment asks its store's code itself (durably, inside the workflows). Throws when Temporal did
 * not take the signal; the receiver then answers non-success and Alipay retries (nothing is lost).
 */
export class NotificationIntake {
  readonly #o: IntakeOptions;

  constructor(options: IntakeOptions) {
    this.#o = options;
  }

  async forward(n: PaymentNotification & { outTradeNo: string }): Promise<IntakeResult> {
    const { client, partnerId, taskQueue, payments } = this.#o;
    const workflowId = paymentWorkflowId(partnerId, n.outTradeNo);
    const input: PaymentWorkflowInput = { partnerId, outTradeNo: n.outTradeNo, ...payments };
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
          staticDetails: detailsOf(n),
        }),
      );
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        return { outcome: 'ALREADY_FINISHED', workflowId };
      throw err;
    }
    return { outcome: 'SIGNALLED', workflowId };
  }
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
function detailsOf(n: PaymentNotification): string {
  const rows: Array<[string, string | undefined]> = [
    ['Alipay trade', n.tradeNo],
    ['Store', n.storeId],
    ['Code', n.qrcode],
    ['Paid', n.totalFee && n.currency ? `${n.totalFee} ${n.currency}` : undefined],
    n.foundByReconciliation
      ? [
          'Found by reconciliation',
          `${n.foundByReconciliation.file} line ${n.foundByReconciliation.line} (no notification arrived)`,
        ]
      : ['First notification', n.notifyId],
    ['Admission', "asked of the store's code by the payment: see its current details"],
  ];
  return rows
    .filter((row): row is [string, string] => row[1] !== undefined)
    .map(([k, v]) => `**${k}:** ${v}`)
    .join('  \n');
}
