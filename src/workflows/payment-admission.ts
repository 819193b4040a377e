import {
  condition,
  getExternalWorkflowHandle,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { PaymentNotification } from '../alipay';
import { admissionAnsweredSignal, admissionRequestedSignal } from './qrcode-messages';
import type { AdmissionRecord, PaymentWorkflowInput } from './payment-types';
import { qrCodeWorkflowId, type AdmissionAnswer, type AdmissionRequest } from './qrcode-types';

/**
 * The admission chapter of a PaymentWorkflow: asking the store's MerchantQrCodeWorkflow whether
 * the paid code is its own and active, and which counter order the payment settles. Durable
 * messages both ways (a signal to the code, an answer signalled back), so a slow or absent worker
 * only delays the answer; the check is never skipped. Asked once per payment run: its history is
 * the record, so a notification Alipay sends again can never consume a second order.
 *
 * Workflow code: the order of its signals and timers is part of recorded histories.
 */

/** Waits before asking a code again whose signal failed for a reason other than "not found". */
const RETRY_SIGNAL_MS = 10_000;

/** The answers signalled back, by answering code; registered before anything is asked. */
export function listenForAdmissionAnswers(): Map<string, AdmissionAnswer> {
  const answers = new Map<string, AdmissionAnswer>();
  setHandler(
    admissionAnsweredSignal,
    (answer) => {
      // The first answer of a code counts (a code carried across continue-as-new may repeat it).
      if (typeof answer?.codeWorkflowId === 'string' && !answers.has(answer.codeWorkflowId))
        answers.set(answer.codeWorkflowId, answer);
    },
    { description: "The store's code answers this payment's admission request." },
  );
  return answers;
}

/**
 * What a receiver that admitted the payment itself put in the input (runs it started keep that
 * answer), or undefined when the input carries none.
 */
export function admissionFromInput(input: PaymentWorkflowInput): AdmissionRecord | undefined {
  if (input.codeActive === undefined && input.expected === undefined) return undefined;
  const detail = 'admitted by the notification receiver';
  if (input.codeActive === false) return { status: 'CODE_INACTIVE', detail };
  if (input.expected === undefined) return { status: 'WALK_IN', detail };
  return {
    status: 'MATCHED',
    expected: input.expected,
    ...(input.expected.orderId ? { orderId: input.expected.orderId } : {}),
    detail,
  };
}

/**
 * Asks the store's codes (the no-fee slot first, then the fee slot) to admit the payment, and
 * waits for the answer. A slot whose workflow does not run is skipped; a slot whose code is not
 * the paid one passes the question on to the other.
 */
export async function askStoreCode(
  partnerId: string,
  n: PaymentNotification & { outTradeNo: string },
  answers: Map<string, AdmissionAnswer>,
  onAsked: () => void = () => undefined,
): Promise<AdmissionRecord> {
  // `onAsked` is told once, when the first request reached Temporal (or could not be made).
  let toldAsked = false;
  const asked = (): void => {
    if (!toldAsked) onAsked();
    toldAsked = true;
  };
  try {
    return await askEachSlot(partnerId, n, answers, asked);
  } finally {
    asked();
  }
}

async function askEachSlot(
  partnerId: string,
  n: PaymentNotification & { outTradeNo: string },
  answers: Map<string, AdmissionAnswer>,
  asked: () => void,
): Promise<AdmissionRecord> {
  if (!n.storeId) return { status: 'NOT_CHECKED', detail: 'the notification names no store' };
  const amount = n.pricingAmount ?? n.totalFee;
  const currency = n.pricingAmount ? n.pricingCurrency : n.currency;
  const paidAt = n.paidAt ?? n.notifyTime;
  const request: AdmissionRequest = {
    outTradeNo: n.outTradeNo,
    replyTo: workflowInfo().workflowId,
    ...(paidAt !== undefined ? { paidAt } : {}),
    arrivedAt: workflowInfo().startTime.getTime(),
    ...(n.qrcode ? { qrcode: n.qrcode } : {}),
    ...(amount ? { amount } : {}),
    ...(currency ? { currency } : {}),
  };
  let otherCodes = 0;
  for (const withFee of [false, true]) {
    const code = qrCodeWorkflowId(partnerId, n.storeId, withFee);
    if (!(await requestAdmission(code, request, asked))) continue;
    await condition(() => answers.has(code));
    const answer = answers.get(code) as AdmissionAnswer;
    if (answer.codeMatches) return recordOf(answer);
    otherCodes += 1;
  }
  return otherCodes > 0
    ? { status: 'CODE_INACTIVE', detail: `the paid code is none of store ${n.storeId}'s codes` }
    : { status: 'NOT_MANAGED', detail: `the engine manages no code of store ${n.storeId}` };
}

/**
 * Signals the request to a code's workflow: false when no such workflow runs (never created,
 * or deleted). Any other refusal (e.g. the code's signal limit, just before it continues as new)
 * is tried again later: the question is never dropped. `tried` is told after each try.
 */
async function requestAdmission(
  code: string,
  request: AdmissionRequest,
  tried: () => void,
): Promise<boolean> {
  for (;;) {
    try {
      await getExternalWorkflowHandle(code).signal(admissionRequestedSignal, request);
      tried();
      return true;
    } catch (err) {
      tried();
      if (err instanceof Error && /not found/i.test(err.message)) return false;
      await sleep(RETRY_SIGNAL_MS, { summary: `ask ${code} again` });
    }
  }
}

function recordOf(answer: AdmissionAnswer): AdmissionRecord {
  const code = answer.codeWorkflowId;
  if (!answer.codeActive) {
    return {
      status: 'CODE_INACTIVE',
      code,
      detail: `the code is ${answer.codeStatus ?? 'not active'}`,
    };
  }
  if (!answer.expected) return { status: 'WALK_IN', code };
  const { orderId } = answer.expected;
  return {
    status: answer.matchedOrderId ? 'MATCHED' : 'HELD',
    code,
    expected: answer.expected,
    ...(orderId ? { orderId } : {}),
    ...(answer.matchedOrderId
      ? {}
      : {
          detail: `matches no pending order; held to order ${orderId ?? '?'} (${answer.expected.amount} ${answer.expected.currency}) to be reversed`,
        }),
  };
}

/** One line for the timeline and the Web UI. */
export function describeAdmission(a: AdmissionRecord): string {
  const order = a.expected
    ? ` ${a.expected.amount} ${a.expected.currency}${a.orderId ? ` (order ${a.orderId})` : ''}`
    : '';
  return `${a.status}${order}${a.detail ? ` — ${a.detail}` : ''}`;
}
