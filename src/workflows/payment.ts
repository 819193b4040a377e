import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  metricMeter,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { MerchantEvent, PaymentConfirmation, PaymentRef } from '../activities/payment';
import { formatMinor, parseMoney } from '../money';
import {
  AlipayOutTradeNo,
  AlipayPartnerId,
  AlipayStoreId,
  AlipayTradeNo,
  LastRefundAt,
  PaidMinor,
  PaymentCurrency,
  PaymentStatus,
  RefundedMinor,
} from '../search-attributes';
import {
  cancelPaymentUpdate,
  paymentNotifiedSignal,
  paymentStateQuery,
  refundPaymentUpdate,
  resolveByOperatorUpdate,
} from './messages';
import {
  admissionFromInput,
  askStoreCode,
  describeAdmission,
  listenForAdmissionAnswers,
} from './payment-admission';
import { PaymentBook, refuseIfInvalid } from './payment-book';
import { gatewayRefundId } from './refund-ids';
import {
  confirmPaymentPatiently,
  DEFAULT_CALL_TIMEOUTS,
  describeFailure,
  isTradeNotFound,
  notifyMerchant,
  notifyMerchantDurably,
  refundPayment,
} from './payment-calls';
import { paymentReversal } from './payment-reversal';
import { endOfGmt8Day } from '../time';
import {
  DEFAULT_CONFIRM_MARGIN_MS,
  DEFAULT_MAX_HISTORY_EVENTS,
  DEFAULT_NOTIFICATION_TIMEOUT_MS,
  DEFAULT_REFUND_WINDOW_MS,
  PAYMENT_INVALID_INPUT,
  type AdmissionRecord,
  type PaymentNotification,
  type PaymentState,
  type PaymentWorkflowInput,
  type RefundEntry,
  type RefundRequest,
} from './payment-types';
import { SerialQueue } from './serial-queue';

export { paymentWorkflowId, DEFAULT_NOTIFICATION_TIMEOUT_MS } from './payment-types';

/** Patch: a start input that cannot run (a tiny `maxHistoryEvents`) fails the workflow. */
const INVALID_INPUT_PATCH = 'reject-invalid-start-input';
/** Patch: the payment asks its store's code itself (before, the receiver asked or nobody did). */
const ADMISSION_PATCH = 'admission-in-workflow';
/** Patch: a merchant refund is sent with an ID derived from partner, payment and refund ID. */
const DERIVED_REFUND_ID_PATCH = 'derived-partner-refund-id';
/**
 * Patch: merchant hooks are delivered durably and on their own; a failing hook no longer
 * reverses a new payment unless the engine's policy says so (`merchantHook.reverseOnFailure`).
 */
const DURABLE_HOOK_PATCH = 'durable-merchant-hooks';
/** Patch: a trade Alipay does not know is REJECTED (before: reversed, then an operator). */
const UNKNOWN_TRADE_PATCH = 'unknown-trade-rejected';
/** Patch: `notify_verify` false no longer reverses a payment QUERY confirmed. */
const NOTIFY_VERIFY_PATCH = 'notify-verify-false-kept';

/**
 * Patch: a refund's Update answers once Alipay settled the refund; the merchant hook follows on
 * its own (it is an activity round trip through Temporal even with no hook configured, and made
 * every refund's answer wait for it). Older runs awaited the hook before answering.
 */
const REFUND_ANSWERS_BEFORE_HOOK_PATCH = 'refund-answers-before-merchant-hook';

/**
 * Patch: confirming costs Temporal less. A run whose notification came with its start publishes
 * CONFIRMING only (not AWAITING_NOTIFICATION first), and its first QUERY runs as a local activity
 * once the store's code has been asked (so both still run at once); further tries as before.
 * Every `patched()` call costs its first run two history events (a marker and an upsert of
 * `TemporalChangeVersion`), so a run that has this patch has all the patches made before it and
 * asks none of them: see `hasPatch` in {@link PaymentWorkflow}.
 */
const LEAN_CONFIRMATION_PATCH = 'lean-confirmation';

/**
 * One Alipay transaction, from its payment notification until its refund window closes.
 * ID: {@link paymentWorkflowId}. Started by the notification receiver with signal-with-start.
 *
 * Story: wait for the notification; ask the store's code to admit the payment (is the code
 * active, which counter order does it settle) while confirming it with QUERY (amount and
 * currency from Alipay; a trade Alipay does not know yet is asked about again for a minute);
 * tell the merchant; PAID.
 * Anything wrong on the way reverses the payment (CANCEL on its GMT+8 day, REFUND after). Then
 * serve `refund` and `cancel` Updates one at a time until the window closes or nothing is left;
 * continue as new between Updates when the history grows. A payment in FAILED_NEEDS_OPERATOR
 * waits for `resolveByOperator` (or the end of its window).
 */
export async function PaymentWorkflow(input: PaymentWorkflowInput): Promise<PaymentState> {
  // A continued run carries the input its first run accepted. Versioned: only called for an input
  // that fails the check, so valid runs record no marker, and older runs replay as they ran.
  const invalid = input.continued ? undefined : PaymentBook.whyInvalidStart(input);
  if (invalid && patched(INVALID_INPUT_PATCH)) {
    throw ApplicationFailure.create({
      type: PAYMENT_INVALID_INPUT,
      nonRetryable: true,
      message: invalid,
    });
  }
  const book = new PaymentBook(input.continued ?? input);
  /** Set at the start of a first run: see {@link LEAN_CONFIRMATION_PATCH}. */
  let lean = false;
  /** An older patch's check: implied by the lean patch, else asked (runs recorded before it). */
  const hasPatch = (patchId: string): boolean => lean || patched(patchId);
  const ref = (): PaymentRef => ({
    partnerId: book.state.partnerId,
    outTradeNo: book.state.outTradeNo,
    ...(book.state.tradeNo ? { tradeNo: book.state.tradeNo } : {}),
  });
  const refundWindowMs = input.refundWindowMs ?? DEFAULT_REFUND_WINDOW_MS;
  const timeouts = input.callTimeouts ?? DEFAULT_CALL_TIMEOUTS;
  const oneAtATime = new SerialQueue();
  /** Merchant hooks still running after their Update answered: the run ends only after them. */
  let hooksInFlight = 0;
  // Steps 4 and 6 (undoing the payment) are a chapter of their own: see payment-reversal.ts.
  const { reverse, merchantCancel, operatorNeeded, resolveByOperator } = paymentReversal({
    book,
    ref,
    publish,
    event,
    tellMerchant,
    timeouts,
  });
  let notification: PaymentNotification | undefined;
  const admissionAnswers = listenForAdmissionAnswers();
  // Recorded before the handlers exist: a signal-with-start signal is delivered as they register.
  if (input.continued) {
    book.state.continuedRuns += 1;
    book.record('CONTINUED_AS_NEW', `run ${book.state.continuedRuns}`);
  } else {
    book.record(
      'STARTED',
      input.expected ? `expecting ${input.expected.amount} ${input.expected.currency}` : undefined,
    );
  }

  setHandler(paymentStateQuery, () => book.state, {
    description:
      'Status, amounts (minor units and decimals), refund ledger, reversal and timeline.',
  });
  setHandler(
    paymentNotifiedSignal,
    (received) => {
      // Alipay re-sends notifications: dedupe by notify_id; later ones are only recorded, so the
      // state never moves backwards (QUERY, not the notification, is the truth).
      // Repeats are counted, not put on the timeline: hundreds of them must not push the
      // payment's milestones out of it.
      if (book.state.notifyIds.includes(received.notifyId)) {
        book.state.notificationRepeats = (book.state.notificationRepeats ?? 0) + 1;
      } else if (notification === undefined && book.status === 'AWAITING_NOTIFICATION') {
        book.state.notifyIds.push(received.notifyId);
        notification = received;
        const found = received.foundByReconciliation;
        book.record(
          found ? 'FOUND_BY_RECONCILIATION' : 'NOTIFICATION_RECEIVED',
          found
            ? `${found.file} line ${found.line}`
            : `${received.notifyId} ${received.tradeStatus ?? ''}`.trim(),
        );
      } else {
        book.state.notifyIds.push(received.notifyId);
        book.record(
          'NOTIFICATION_LATE',
          `${received.notifyId} ${received.tradeStatus ?? ''} (status stays ${book.status})`,
        );
      }
    },
    { description: 'A verified Alipay payment notification (deduplicated by notify_id).' },
  );
  setHandler(refundPaymentUpdate, (req) => refund(req), {
    validator: (req) => refuseIfInvalid(() => book.checkRefund(req)),
    description:
      'Refund part of the balance: {refundId, amount, currency?, reason?}. A repeated refundId answers the first result.',
  });
  setHandler(cancelPaymentUpdate, (req) => oneAtATime.run(() => merchantCancel(req?.reason)), {
    validator: (_req) => refuseIfInvalid(() => book.checkCancel()),
    description: 'CANCEL the whole payment (GMT+8 day of the payment only, before any refund).',
  });
  // No commands until an operator sends one: registering it leaves recorded histories as they are.
  setHandler(resolveByOperatorUpdate, (req) => oneAtATime.run(async () => resolveByOperator(req)), {
    validator: (req) => refuseIfInvalid(() => book.checkResolution(req)),
    description:
      'FAILED_NEEDS_OPERATOR only: {outcome: REVERSED | NOT_REVERSED, note, refundOutcomes: {refundId: SUCCEEDED | FAILED}} for every UNKNOWN refund, as checked at Alipay; refunds are possible again afterwards.',
  });

  if (!input.continued) {
    lean = patched(LEAN_CONFIRMATION_PATCH);
    if (!lean || notification === undefined) publish(book);
    const arrived = await condition(
      () => notification !== undefined,
      input.notificationTimeoutMs ?? DEFAULT_NOTIFICATION_TIMEOUT_MS,
    );
    if (!arrived || !notification) {
      book.record('NOTIFICATION_TIMED_OUT');
      book.moveTo('CLOSED', 'no payment notification before the deadline');
      publish(book);
      return book.state;
    }
    await confirmAndHandOver(notification);
  }
  publish(book);

  await stayOpenForRefunds();
  if (!book.isFinal && book.status !== 'FAILED_NEEDS_OPERATOR')
    book.moveTo('CLOSED', 'refund window ended');
  publish(book);
  return book.state;

  // --- the story's chapters -----------------------------------------------------------------

  /** Steps 2-4: QUERY, check, merchant hook, PAID; any problem reverses the payment. */
  async function confirmAndHandOver(n: PaymentNotification): Promise<void> {
    book.state.tradeNo = n.tradeNo;
    if (n.storeId) book.state.storeId = n.storeId;
    book.moveTo('CONFIRMING', n.notifyId);
    // Asked before QUERY is scheduled: both run at once, and the request's place in the code's
    // history follows the order in which notifications reached Temporal.
    let asked = (): void => undefined;
    const requestSent = new Promise<void>((resolve) => (asked = resolve));
    const admitted = admit(n, asked);
    publish(book);
    // A local activity holds its workflow task open until it is done, and the request to the
    // code leaves with that task's completion: QUERY waits for the request to be out first.
    if (lean) await requestSent;

    let trade: PaymentConfirmation;
    try {
      // Alipay's passing errors are asked through while a reversal would still be a CANCEL
      // with room to spare: a short blip must not reverse a real payment.
      const patienceUntil =
        endOfGmt8Day(n.paidAt ?? n.notifyTime ?? Date.now()) -
        (input.confirmMarginMs ?? DEFAULT_CONFIRM_MARGIN_MS);
      // A payment found in the reconciliation file has no real notify_id to verify.
      const notifyId = n.foundByReconciliation ? undefined : n.notifyId;
      trade = await confirmPaymentPatiently(
        ref(),
        notifyId,
        (attempt, delayMs) =>
          book.record('QUERY_NOT_FOUND', `try ${attempt}; asking again in ${delayMs / 1000} s`),
        timeouts,
        patienceUntil,
        lean,
      );
    } catch (err) {
      const { type, message } = describeFailure(err);
      // Alipay says, again and again, that it never saw this trade: nothing was paid, so
      // nothing is reversed (a CANCEL or REFUND of a trade that does not exist moves no money and
      // only confuses the ledger). Versioned: asked only on that path.
      if (isTradeNotFound(err) && patched(UNKNOWN_TRADE_PATCH)) {
        // Alert for operators (the worker's Temporal metrics): someone sends signed notifications
        // of trades Alipay does not know, or Alipay lost one.
        metricMeter
          .createCounter('alipay_payments_rejected', 'payments', 'REJECTED payments')
          .add(1);
        book.moveTo('REJECTED', `Alipay does not know this trade (${type}: ${message})`);
        return;
      }
      // Amount and day come from the notification when QUERY never answered.
      if (n.amount)
        book.setPaid(n.amount.minor, n.amount.currency, n.paidAt ?? Date.now(), refundWindowMs);
      return reverse(`QUERY never conclusive (${type}: ${message})`);
    }
    if (trade.tradeNo) book.state.tradeNo = trade.tradeNo;
    if (trade.status === 'TRADE_CLOSED') {
      book.moveTo('CLOSED', 'Alipay reports the trade closed: nothing was paid');
      return;
    }
    book.setPaid(
      trade.amount.minor,
      trade.amount.currency,
      trade.paidAt ?? n.paidAt ?? Date.now(),
      refundWindowMs,
    );
    book.record('CONFIRMED', `${book.state.paid} ${book.state.currency} ${trade.status}`);

    const problems = whatIsWrong(n, trade, await admitted);
    if (problems.length > 0) return reverse(problems.join('; '));

    const confirmed = event('payment.confirmed', book.state.paidMinor);
    if (!hasPatch(DURABLE_HOOK_PATCH)) {
      // Runs recorded before: a hook failing after 5 tries reversed the payment.
      try {
        await notifyMerchant(confirmed);
      } catch (err) {
        const { type, message } = describeFailure(err);
        return reverse(`merchant hook failed for good (${type}: ${message})`);
      }
      return book.moveTo('PAID');
    }
    const reverseOnFailure = input.merchantHook ? input.merchantHook.reverseOnFailure : undefined;
    if (reverseOnFailure) {
      // The engine's explicit policy: the merchant must take the payment within the deadline.
      try {
        await notifyMerchantDurably(confirmed, timeouts, reverseOnFailure.deadlineMs);
      } catch (err) {
        const { type, message } = describeFailure(err);
        return reverse(
          `merchant hook failed for ${reverseOnFailure.deadlineMs / 1000} s (${type}: ${message})`,
        );
      }
      return book.moveTo('PAID');
    }
    book.moveTo('PAID');
    deliver(confirmed);
  }

  /**
   * The store code's admission: from the input when a receiver already asked (runs it started),
   * else asked now. Runs recorded before the patch were not asked (nothing to check). `asked` is
   * told when the request is out (or none is needed).
   */
  async function admit(
    n: PaymentNotification,
    asked: () => void,
  ): Promise<AdmissionRecord | undefined> {
    const given = admissionFromInput(input);
    if (given) {
      asked();
      return settled(given);
    }
    if (!hasPatch(ADMISSION_PATCH)) {
      asked();
      return undefined;
    }
    book.state.admission = { status: 'PENDING' };
    const outTradeNo = book.state.outTradeNo;
    return settled(
      await askStoreCode(book.state.partnerId, { ...n, outTradeNo }, admissionAnswers, asked),
    );
  }

  function settled(admission: AdmissionRecord): AdmissionRecord {
    book.state.admission = admission;
    book.record('ADMISSION', describeAdmission(admission));
    return admission;
  }

  /** The checks of MAPI.md §12.5 plus the merchant's expectations; empty when all is well. */
  function whatIsWrong(
    n: PaymentNotification,
    trade: PaymentConfirmation,
    admission: AdmissionRecord | undefined,
  ): string[] {
    const problems: string[] = [];
    // QUERY is the trade's truth: a notify_id Alipay no longer recognises (expired, replayed)
    // says nothing against a payment QUERY confirmed. Versioned: asked only on that path.
    if (trade.notifyVerified === false) {
      if (patched(NOTIFY_VERIFY_PATCH))
        book.record('NOTIFY_VERIFY_FALSE', `${n.notifyId}: kept, QUERY confirmed the trade`);
      else problems.push(`notify_verify answered false for ${n.notifyId}`);
    }
    if (n.partner && n.partner !== book.state.partnerId)
      problems.push(`notification for partner ${n.partner}`);
    if (n.outTradeNo && n.outTradeNo !== book.state.outTradeNo)
      problems.push(`notification for out_trade_no ${n.outTradeNo}`);
    if (trade.outTradeNo !== book.state.outTradeNo)
      problems.push(`QUERY answered for out_trade_no ${trade.outTradeNo}`);
    if (trade.status !== 'TRADE_SUCCESS' && trade.status !== 'TRADE_FINISHED')
      problems.push(`trade status ${trade.status}`);
    if (trade.amount.minor <= 0) problems.push('amount is not positive');
    if (admission?.status === 'CODE_INACTIVE')
      problems.push(
        `the store code is unknown or not active${admission.detail ? ` (${admission.detail})` : ''}`,
      );
    if (admission?.expected) {
      const { amount, currency, orderId } = admission.expected;
      let expectedMinor: number | undefined;
      try {
        expectedMinor = parseMoney(amount, currency).minor;
      } catch {
        problems.push(`expected amount ${amount} ${currency} is invalid`);
      }
      if (
        expectedMinor !== undefined &&
        (currency !== trade.amount.currency || expectedMinor !== trade.amount.minor)
      ) {
        problems.push(
          `paid ${formatMinor(trade.amount.minor, trade.amount.currency)} ${trade.amount.currency}, expected ${amount} ${currency}${orderId ? ` for order ${orderId}` : ''}`,
        );
      }
    }
    return problems;
  }

  /** Step 5: one refund, with its amount reserved before it waits for its turn. */
  async function refund(req: RefundRequest): Promise<RefundEntry> {
    const { minor, existing } = refuseIfInvalid(() => book.checkRefund(req));
    if (existing) {
      await condition(() => existing.status !== 'PENDING');
      // A copy marked as a replay (the same request again): the caller learns nothing new was
      // sent. Only the answer changes, no command, so no patch is needed.
      const replay = { ...existing, replayed: true };
      return replay;
    }
    const entry = book.reserveRefund(req, minor);
    // Versioned: entries of runs recorded before it sent the merchant's ID itself.
    if (hasPatch(DERIVED_REFUND_ID_PATCH))
      entry.gatewayRefundId = gatewayRefundId(
        book.state.partnerId,
        book.state.outTradeNo,
        entry.refundId,
      );
    publish(book);
    await oneAtATime.run(async () => {
      const outcome = await refundPayment(ref(), entry, timeouts);
      book.settleRefund(entry, outcome.status, 'failure' in outcome ? outcome.failure : undefined);
      if (outcome.status === 'UNKNOWN')
        return operatorNeeded(`REFUND ${entry.refundId} outcome unknown: ${outcome.failure}`);
      if (outcome.status === 'SUCCEEDED' && book.status !== 'FAILED_NEEDS_OPERATOR')
        book.moveTo(book.refundedStatus());
      publish(book);
      if (outcome.status === 'SUCCEEDED') {
        const answerFirst = hasPatch(REFUND_ANSWERS_BEFORE_HOOK_PATCH);
        const told = tellMerchant(
          event('refund.succeeded', entry.amountMinor, {
            refundId: entry.refundId,
            ...(entry.reason ? { reason: entry.reason } : {}),
          }),
        );
        if (!answerFirst) {
          await told;
        } else {
          hooksInFlight += 1;
          void told.finally(() => (hooksInFlight -= 1));
        }
      }
    });
    return entry;
  }

  /** Step 7: open for refunds until the window closes or nothing is left; continue as new when idle. */
  async function stayOpenForRefunds(): Promise<void> {
    const maxEvents = input.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS;
    const historyLarge = () =>
      workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= maxEvents;
    const windowEnd =
      book.state.refundDeadline ?? workflowInfo().runStartTime.getTime() + refundWindowMs;
    for (;;) {
      const left = windowEnd - Date.now();
      const woken = left > 0 && (await condition(() => book.isFinal || historyLarge(), left));
      // Handlers in flight finish first: an Update is never cut off by completion or a new run.
      await condition(() => allHandlersFinished() && oneAtATime.idle && hooksInFlight === 0);
      if (!woken || book.isFinal) return;
      if (historyLarge()) {
        publish(book);
        await continueAsNew<typeof PaymentWorkflow>({ ...input, continued: book.state });
      }
    }
  }

  function event(
    type: MerchantEvent['type'],
    minor: number,
    extra: Partial<MerchantEvent> = {},
  ): MerchantEvent {
    const currency = book.state.currency ?? 'XXX';
    return {
      type,
      eventId: `${book.state.outTradeNo}/${type}${extra.refundId ? `/${extra.refundId}` : ''}`,
      partnerId: book.state.partnerId,
      outTradeNo: book.state.outTradeNo,
      ...(book.state.tradeNo ? { tradeNo: book.state.tradeNo } : {}),
      currency,
      amount: book.state.currency ? formatMinor(minor, currency) : String(minor),
      amountMinor: minor,
      at: Date.now(),
      ...extra,
    };
  }

  /** After the fact (a reversal or refund done): a failing hook is recorded, nothing is undone. */
  async function tellMerchant(e: MerchantEvent): Promise<void> {
    if (hasPatch(DURABLE_HOOK_PATCH)) return deliver(e);
    try {
      await notifyMerchant(e);
    } catch (err) {
      const { type, message } = describeFailure(err);
      book.record('MERCHANT_HOOK_FAILED', `${e.type}: ${type}: ${message}`);
    }
  }

  /**
   * Delivers a hook event on its own, durably (hours of back-off), whatever the payment does
   * meanwhile; the run ends (or continues as new) only after it. Nothing is scheduled when the
   * starter's configuration has no hook.
   */
  function deliver(e: MerchantEvent): void {
    if (input.merchantHook === false) return;
    hooksInFlight += 1;
    void notifyMerchantDurably(e, timeouts)
      .then(
        () => undefined,
        (err: unknown) => {
          const { type, message } = describeFailure(err);
          book.record('MERCHANT_HOOK_FAILED', `${e.type}: ${type}: ${message}`);
        },
      )
      .finally(() => (hooksInFlight -= 1));
  }
}

/** Keeps what the Web UI shows (search attributes, current details) in step with the state. */
function publish(book: PaymentBook): void {
  const s = book.state;
  upsertSearchAttributes([
    { key: PaymentStatus, value: s.status },
    { key: AlipayPartnerId, value: s.partnerId },
    { key: AlipayOutTradeNo, value: s.outTradeNo },
    ...(s.tradeNo ? [{ key: AlipayTradeNo, value: s.tradeNo }] : []),
    ...(s.storeId ? [{ key: AlipayStoreId, value: s.storeId }] : []),
    ...(s.currency ? [{ key: PaymentCurrency, value: s.currency }] : []),
    { key: PaidMinor, value: s.paidMinor },
    { key: RefundedMinor, value: s.refundedMinor },
    ...(s.lastRefundAt !== undefined
      ? [{ key: LastRefundAt, value: new Date(s.lastRefundAt) }]
      : []),
  ]);
  const amounts = s.currency
    ? ` — paid ${s.paid} ${s.currency}, refunded ${s.refunded}, refundable ${s.refundable}`
    : '';
  const operator = s.operatorReason ? `\n\n**Needs an operator:** ${s.operatorReason}` : '';
  const admission = s.admission
    ? `\n\nAdmission: ${s.admission.status === 'PENDING' ? "waiting for the store's code" : describeAdmission(s.admission)}`
    : '';
  const reversal = s.reversal
    ? `\n\nReversal: ${s.reversal.method ?? '…'} ${s.reversal.outcome} (${s.reversal.reason})`
    : '';
  setCurrentDetails(
    `**${s.status}** — out_trade_no ${s.outTradeNo}${s.tradeNo ? `, trade_no ${s.tradeNo}` : ''}${amounts}; ${s.refunds.length} refund(s)${admission}${reversal}${operator}`,
  );
}
