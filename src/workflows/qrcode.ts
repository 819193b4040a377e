import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { QrCodeActivities } from '../activities/qrcode';
import { AlipayPartnerId, AlipayStoreId, QrCodeStatus } from '../search-attributes';
import { CounterOrders } from './counter-orders';
import { gatewayRetryPolicy } from './gateway-retry';
import {
  admissionAnsweredSignal,
  admissionRequestedSignal,
  admitPaymentUpdate,
  expectPaymentUpdate,
  modifyQrCodeUpdate,
  qrCodeStateQuery,
  setQrCodeStatusUpdate,
  withdrawExpectedPaymentUpdate,
} from './qrcode-messages';
import { QrCodeRecord } from './qrcode-record';
import { rejectionOf, type Refusal } from './refusal';
import { SerialQueue } from './serial-queue';
import {
  ANSWER_BATCH,
  DEFAULT_MAX_HISTORY_EVENTS,
  QR_CODE_GATEWAY_FAILED,
  QR_CODE_INVALID_INPUT,
  QR_CODE_UPDATE_REJECTED,
  type MerchantQrCodeInput,
  type QrCodeChange,
  type QrCodeInput,
  type QrCodeState,
  type QrCodeStatusChange,
  type UndeliveredAnswer,
} from './qrcode-types';

export { qrCodeWorkflowId } from './qrcode-types';

// CREATE at start may wait as long as Alipay needs (the code is not usable before); the
// Updates' calls are bounded because a merchant is waiting for their answer.
const { createQrCode } = proxyActivities<QrCodeActivities>({
  startToCloseTimeout: '30s',
  retry: gatewayRetryPolicy(),
});
const { modifyQrCode, setQrCodeStatus } = proxyActivities<QrCodeActivities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '5m',
  retry: gatewayRetryPolicy(),
});

/**
 * The merchant QR code of one store slot (partner + store + with/without channel fee), for as
 * long as the code lives. ID: {@link qrCodeWorkflowId}.
 *
 * Story: CREATE the code (get-or-create at Alipay, so a retry or a restarted workflow gets the
 * same code); then serve `modify` and `setStatus` Updates one at a time, each validated before
 * it is accepted and re-checked when its turn comes; end when the code is DELETEd. Meanwhile
 * keep the store's counter orders (`expectPayment`, `withdrawExpectedPayment`: answered at once,
 * never queued behind a gateway call) and admit each payment its PaymentWorkflow asks about
 * (signal `admissionRequested`, applied in arrival order; the answers are signalled back in
 * batches). A long-lived code continues as new when its history grows, even under a constant
 * stream of admissions: between Updates, carrying its state (orders and admissions included) and
 * the answers it has not delivered yet.
 */
export async function MerchantQrCodeWorkflow(input: MerchantQrCodeInput): Promise<QrCodeState> {
  const invalid = input.continued
    ? undefined
    : QrCodeRecord.whyInvalidStart(input.partnerId, input.info, input.unmatchedPayments);
  if (invalid) {
    throw ApplicationFailure.create({
      type: QR_CODE_INVALID_INPUT,
      nonRetryable: true,
      message: invalid,
    });
  }
  const code = input.continued
    ? QrCodeRecord.resume(input.continued, Date.now(), input.unmatchedPayments)
    : QrCodeRecord.start(input.partnerId, input.info, input.unmatchedPayments);
  const queue = new SerialQueue();
  const oneAtATime = <T>(step: () => Promise<T>): Promise<T> => queue.run(step);
  const workflowId = workflowInfo().workflowId;
  // Answers decided but not delivered yet, oldest first (a previous run's come first).
  const outbox: UndeliveredAnswer[] = [...(input.undelivered ?? [])];
  // The Web UI's details are rendered once per workflow task that changed something, not once
  // per message: a busy code handles many admissions in one task.
  let detailsStale = false;
  const changed = () => {
    detailsStale = true;
  };

  setHandler(qrCodeStateQuery, () => code.snapshot(Date.now()), {
    description:
      'The code: status, qrcode, image URL, data, change history, pending counter orders and recent admissions.',
  });
  setHandler(modifyQrCodeUpdate, (info) => oneAtATime(() => modify(code, info)), {
    validator: (info) => refuseIf(code.whyNotModify(info)),
    description:
      'MODIFY the code with its complete new data; immutable fields and the fee variant must stay.',
  });
  setHandler(setQrCodeStatusUpdate, (change) => oneAtATime(() => changeStatus(code, change)), {
    validator: (change) => refuseIf(code.whyNotChangeStatus(change)),
    description: 'STOP an active code, RESTART a stopped one, or DELETE it (final).',
  });
  // The counter-order handlers are synchronous: nothing can change between a validator and its
  // handler, and they need no turn in the queue (they call nothing), so a till or a payment
  // never waits behind a slow MODIFY.
  setHandler(
    expectPaymentUpdate,
    (req) => {
      const order = code.orders.expect(req, Date.now());
      changed();
      return order;
    },
    {
      validator: (req) => refuseIf(code.orders.whyNotExpect(req, Date.now())),
      description:
        'Expect a payment at this ACTIVE code: {orderId, amount, currency (the pricing currency), ttlMs? (1 min..24 h, default 15 min)}.',
    },
  );
  setHandler(
    withdrawExpectedPaymentUpdate,
    ({ orderId }) => {
      code.orders.withdraw(orderId, Date.now());
      changed();
      return code.snapshot(Date.now());
    },
    {
      validator: (req) => refuseIf(code.orders.whyNotWithdraw(req, Date.now())),
      description: 'Withdraw a pending counter order: {orderId}.',
    },
  );
  setHandler(
    admitPaymentUpdate,
    (req) => {
      const admission = code.orders.admit(req, Date.now());
      changed();
      return admission;
    },
    {
      validator: (req) => refuseIf(CounterOrders.whyInvalidAdmission(req)),
      description:
        'Legacy (receivers from before admission moved into the workflows): {outTradeNo, qrcode?, amount?, currency?} -> code matches and is active, the order the payment must match; idempotent per outTradeNo.',
    },
  );
  // Synchronous, so admissions apply in the order the requests reached the history; the answer
  // waits in the outbox for the main loop to deliver.
  setHandler(
    admissionRequestedSignal,
    (req) => {
      if (typeof req?.replyTo !== 'string' || req.replyTo === '') {
        log.warn('admission request without replyTo ignored', { outTradeNo: req?.outTradeNo });
        return;
      }
      const admission = CounterOrders.whyInvalidAdmission(req)
        ? { codeMatches: false, codeActive: false, codeStatus: code.status }
        : code.orders.admit(req, Date.now());
      outbox.push({
        replyTo: req.replyTo,
        answer: { ...admission, outTradeNo: String(req.outTradeNo), codeWorkflowId: workflowId },
      });
      changed();
    },
    {
      description:
        'From a PaymentWorkflow: {outTradeNo, replyTo, qrcode?, amount?, currency?}; the admission is signalled back to replyTo (admissionAnswered).',
    },
  );

  // The handlers are registered before CREATE is queued, and CREATE is queued first: Updates
  // that arrive meanwhile wait behind it and see the created code.
  publish(code);
  if (code.qrcode === undefined) await oneAtATime(() => create(code));

  const maxEvents = input.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS;
  const historyIsLong = () =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= maxEvents;
  // Updates must be finished (an Update running or queued would be lost by continue-as-new);
  // admission signals need not be: each is applied at once, and its answer, if still in the
  // outbox, is carried to the next run. So a code that is never idle continues as new too.
  const canEnd = () => (code.status === 'DELETED' || historyIsLong()) && allHandlersFinished();
  for (;;) {
    await condition(() => detailsStale || outbox.length > 0 || canEnd());
    if (detailsStale) {
      detailsStale = false;
      showDetails(code);
    }
    if (code.status !== 'DELETED' && canEnd()) {
      return await continueAsNew<typeof MerchantQrCodeWorkflow>({
        ...input,
        continued: code.snapshot(Date.now()),
        undelivered: outbox,
      });
    }
    if (outbox.length > 0) {
      // Taken out only once delivered (answers keep arriving meanwhile, at the end).
      const batch = outbox.slice(0, ANSWER_BATCH);
      await deliver(batch);
      outbox.splice(0, batch.length);
    } else if (canEnd()) {
      return code.snapshot(Date.now());
    }
  }
}

/**
 * Signals a batch of admission answers to their payments, all in one workflow task. A payment
 * that is gone (terminated by an operator) cannot take its answer: that is logged, not retried.
 */
async function deliver(batch: UndeliveredAnswer[]): Promise<void> {
  await Promise.all(
    batch.map(({ replyTo, answer }) =>
      getExternalWorkflowHandle(replyTo)
        .signal(admissionAnsweredSignal, answer)
        .catch((err: unknown) =>
          log.warn('admission answer not delivered', {
            replyTo,
            outTradeNo: answer.outTradeNo,
            error: err instanceof Error ? err.message : String(err),
          }),
        ),
    ),
  );
}

async function create(code: QrCodeRecord): Promise<void> {
  try {
    const result = await createQrCode.executeWithOptions(
      { summary: `CREATE code of store ${code.info.storeId}` },
      [{ partnerId: code.partnerId, info: code.info }],
    );
    code.created(result, Date.now());
  } catch (err) {
    code.failed('CREATE', describe(err), Date.now());
    publish(code);
    throw gatewayFailed('CREATE', err);
  }
  publish(code);
}

async function modify(code: QrCodeRecord, info: QrCodeInput): Promise<QrCodeState> {
  const qrcode = recheck(code, code.whyNotModify(info));
  await applyThroughGateway(code, 'MODIFY', async () => {
    const result = await modifyQrCode.executeWithOptions(
      { summary: `MODIFY code of store ${code.info.storeId}` },
      [{ partnerId: code.partnerId, qrcode, info }],
    );
    code.modified(info, result, Date.now());
  });
  return code.snapshot(Date.now());
}

async function changeStatus(code: QrCodeRecord, change: QrCodeStatusChange): Promise<QrCodeState> {
  const qrcode = recheck(code, code.whyNotChangeStatus(change));
  await applyThroughGateway(code, change, async () => {
    await setQrCodeStatus.executeWithOptions(
      { summary: `${change} code of store ${code.info.storeId}` },
      [{ partnerId: code.partnerId, qrcode, status: change }],
    );
    code.statusChanged(change, Date.now());
  });
  return code.snapshot(Date.now());
}

/** Runs one gateway change; a final failure is recorded and fails the Update, the code unchanged. */
async function applyThroughGateway(
  code: QrCodeRecord,
  action: QrCodeChange['action'],
  apply: () => Promise<void>,
): Promise<void> {
  try {
    await apply();
  } catch (err) {
    code.failed(action, describe(err), Date.now());
    throw gatewayFailed(action, err);
  } finally {
    publish(code);
  }
}

/** Keeps what the Web UI shows (search attributes, current details) in step with the code. */
function publish(code: QrCodeRecord): void {
  upsertSearchAttributes([
    { key: QrCodeStatus, value: code.status },
    { key: AlipayPartnerId, value: code.partnerId },
    { key: AlipayStoreId, value: code.storeId },
  ]);
  showDetails(code);
}

/**
 * The Web UI's current details only: no command, so the counter-order handlers add nothing to
 * history but their own events. Reads the state without copying it (a busy code renders this
 * once per workflow task).
 */
function showDetails(code: QrCodeRecord): void {
  const last = code.lastChange;
  const pending = code.orders.pending(Date.now()).length;
  setCurrentDetails(
    [
      `**${code.status}** — store ${code.storeId} (${code.info.storeName ?? 'taxi'}), ${code.withFee ? 'with' : 'no'} channel fee`,
      code.qrcode ? `code: ${code.qrcode}` : 'code: not created yet',
      last
        ? `last change: ${last.action} ${last.outcome}${last.detail ? ` — ${last.detail}` : ''}`
        : '',
      pending > 0
        ? `counter orders pending: ${pending} (unmatched payments: ${code.unmatchedPayments})`
        : '',
    ]
      .filter(Boolean)
      .join('\n\n'),
  );
}

/** Validator outcome: a refusal is a typed failure carrying the reason and its category. */
function refuseIf(refusal: Refusal | undefined): void {
  if (refusal) throw rejected(refusal.reason, refusal);
}

/**
 * The rule is checked again when the Update's turn comes: an earlier one may have changed the
 * code (so any refusal now is a CONFLICT). Returns the code content, which CREATE (always first
 * in the queue) has set.
 */
function recheck(code: QrCodeRecord, refusal: Refusal | undefined): string {
  const reason = code.qrcode === undefined ? 'the code could not be created' : refusal?.reason;
  if (reason) {
    throw rejected(`no longer possible after an earlier change: ${reason}`, {
      reason,
      kind: 'CONFLICT',
      ...(refusal?.field ? { field: refusal.field } : {}),
    });
  }
  return code.qrcode as string;
}

function rejected(message: string, refusal: Refusal): ApplicationFailure {
  return ApplicationFailure.create({
    type: QR_CODE_UPDATE_REJECTED,
    nonRetryable: true,
    message,
    details: [rejectionOf(refusal)],
  });
}

function gatewayFailed(action: string, err: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: QR_CODE_GATEWAY_FAILED,
    nonRetryable: true,
    message: `${action} failed at Alipay: ${describe(err)}`,
    cause: err instanceof Error ? err : undefined,
  });
}

/** The innermost message: for an activity failure, the gateway error's own message. */
function describe(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}
