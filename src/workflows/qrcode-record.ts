import { isSupportedCurrency } from '../money';
import { CounterOrders } from './counter-orders';
import {
  MAX_HISTORY_ENTRIES,
  type QrCodeChange,
  type QrCodeInput,
  type QrCodeLifecycle,
  type QrCodeState,
  type QrCodeStatusChange,
  type UnmatchedPaymentPolicy,
} from './qrcode-types';
import { conflict, invalid, type Refusal } from './refusal';

/**
 * The state of one merchant QR code that the workflow's handlers share, and the rules that
 * decide which changes may be asked of it. Every `whyNot…` method returns the {@link Refusal} of
 * a request (for an Update validator, and again when the handler's turn comes), or undefined.
 * Its counter orders (and the admission of payments to them) are in {@link orders}.
 * Pure and deterministic: times come from the caller (the workflow clock).
 */
export class QrCodeRecord {
  /** Counter orders and payment admission, kept in this code's state. */
  readonly orders: CounterOrders;

  private constructor(private readonly state: QrCodeState) {
    this.orders = new CounterOrders(state, this, (action, detail, at) =>
      this.log({ at, action, outcome: 'APPLIED', detail }),
    );
  }

  /** A fresh code, not created yet (check the input with {@link QrCodeRecord.whyInvalidStart} first). */
  static start(
    partnerId: string,
    info: QrCodeInput,
    unmatchedPayments: UnmatchedPaymentPolicy = 'REVERSE',
  ): QrCodeRecord {
    return new QrCodeRecord({
      status: 'CREATING',
      partnerId,
      storeId: info.storeId,
      withFee: info.channelFee !== undefined,
      info,
      history: [],
      continuedRuns: 0,
      pendingOrders: [],
      unmatchedPayments,
      admissions: [],
    });
  }

  /**
   * The state carried over by continue-as-new. A run carried from before counter orders existed
   * has none; its policy is then the input's.
   */
  static resume(
    carried: QrCodeState,
    at: number,
    unmatchedPayments: UnmatchedPaymentPolicy = 'REVERSE',
  ): QrCodeRecord {
    const record = new QrCodeRecord({
      ...carried,
      pendingOrders: carried.pendingOrders ?? [],
      unmatchedPayments: carried.unmatchedPayments ?? unmatchedPayments,
      admissions: carried.admissions ?? [],
      continuedRuns: carried.continuedRuns + 1,
    });
    record.log({ at, action: 'CONTINUED_AS_NEW', outcome: 'APPLIED' });
    return record;
  }

  get status(): QrCodeLifecycle {
    return this.state.status;
  }
  get partnerId(): string {
    return this.state.partnerId;
  }
  get info(): QrCodeInput {
    return this.state.info;
  }
  /** The code content; only defined once CREATE succeeded. */
  get qrcode(): string | undefined {
    return this.state.qrcode;
  }
  get storeId(): string {
    return this.state.storeId;
  }
  get withFee(): boolean {
    return this.state.withFee;
  }
  get unmatchedPayments(): QrCodeState['unmatchedPayments'] {
    return this.state.unmatchedPayments;
  }
  /** The newest entry of the change history (no copy: read, don't keep). */
  get lastChange(): QrCodeChange | undefined {
    return this.state.history.at(-1);
  }

  /**
   * A copy for queries and Update results (handlers keep mutating the original). Pending orders
   * that expired at `at` are left out (all are kept when `at` is not given).
   */
  snapshot(at?: number): QrCodeState {
    const copy = JSON.parse(JSON.stringify(this.state)) as QrCodeState;
    if (at !== undefined) copy.pendingOrders = copy.pendingOrders.filter((o) => at < o.expiresAt);
    return copy;
  }

  /** Why a start input cannot describe a code of this partner, if it cannot. */
  static whyInvalidStart(
    partnerId: unknown,
    info: unknown,
    unmatchedPayments?: unknown,
  ): string | undefined {
    if (typeof partnerId !== 'string' || !/^\d{16}$/.test(partnerId)) {
      return 'partnerId must be the 16-digit Alipay partner ID';
    }
    if (
      unmatchedPayments !== undefined &&
      unmatchedPayments !== 'ACCEPT' &&
      unmatchedPayments !== 'REVERSE'
    ) {
      return `unmatchedPayments must be ACCEPT or REVERSE (got ${JSON.stringify(unmatchedPayments)})`;
    }
    return whyInvalidInfo(info)?.reason;
  }

  /**
   * Why `modify(info)` is refused: a deleted code (CONFLICT), invalid data, or an immutable field
   * changed (INVALID: no state of this code would accept it).
   */
  whyNotModify(info: unknown): Refusal | undefined {
    if (this.state.status === 'DELETED')
      return conflict('the code was deleted; a deleted code cannot be modified');
    const bad = whyInvalidInfo(info);
    if (bad) return bad;
    const next = info as QrCodeInput;
    const now = this.state.info;
    if (next.secondaryMerchantId !== now.secondaryMerchantId) {
      return invalid(
        `secondaryMerchantId cannot change after creation (is ${now.secondaryMerchantId})`,
        'secondaryMerchantId',
      );
    }
    if ((next.serviceProviderId ?? '') !== (now.serviceProviderId ?? '')) {
      return invalid(
        `serviceProviderId cannot change after creation (is ${now.serviceProviderId ?? 'unset'})`,
        'serviceProviderId',
      );
    }
    if (next.storeId !== now.storeId) {
      return invalid(
        `storeId cannot change: this workflow manages the code of store ${now.storeId}; create one for the other store instead`,
        'storeId',
      );
    }
    if (this.state.withFee && next.channelFee === undefined) {
      return invalid(
        "a channel fee present at creation cannot be removed; use the store's no-fee code instead",
        'channelFee',
      );
    }
    if (!this.state.withFee && next.channelFee !== undefined) {
      return invalid(
        "this is the store's no-fee code; adding a channel fee would make it the fee variant — use the fee-variant code instead",
        'channelFee',
      );
    }
    return undefined;
  }

  /**
   * Why `setStatus(change)` is refused, following ACTIVE -STOP-> STOPPED -RESTART-> ACTIVE,
   * -DELETE-> DELETED: an unknown change is INVALID, one the status does not allow a CONFLICT.
   */
  whyNotChangeStatus(change: unknown): Refusal | undefined {
    if (change !== 'STOP' && change !== 'RESTART' && change !== 'DELETE') {
      return invalid(
        `unknown status change ${JSON.stringify(change)}; expected STOP, RESTART or DELETE`,
        'status',
      );
    }
    const status = this.state.status;
    if (status === 'DELETED')
      return conflict(`the code was deleted; DELETE is final, ${change} is not possible`);
    if (change === 'STOP' && status === 'STOPPED') return conflict('the code is already stopped');
    if (change === 'RESTART' && status !== 'STOPPED') {
      return conflict(
        status === 'CREATING'
          ? 'the code is being created and will be active; only a stopped code can be restarted'
          : 'the code is active; only a stopped code can be restarted',
      );
    }
    return undefined;
  }

  created(result: { qrcode: string; imageUrl?: string }, at: number): void {
    this.state.qrcode = result.qrcode;
    if (result.imageUrl !== undefined) this.state.imageUrl = result.imageUrl;
    this.state.status = 'ACTIVE';
    this.log({ at, action: 'CREATE', outcome: 'APPLIED' });
  }

  modified(info: QrCodeInput, result: { imageUrl?: string }, at: number): void {
    this.state.info = info;
    if (result.imageUrl !== undefined) this.state.imageUrl = result.imageUrl;
    this.log({ at, action: 'MODIFY', outcome: 'APPLIED' });
  }

  statusChanged(change: QrCodeStatusChange, at: number): void {
    this.state.status = change === 'STOP' ? 'STOPPED' : change === 'RESTART' ? 'ACTIVE' : 'DELETED';
    this.log({ at, action: change, outcome: 'APPLIED' });
  }

  /** A change that the gateway refused for good (the code is as it was). */
  failed(action: QrCodeChange['action'], detail: string, at: number): void {
    this.log({ at, action, outcome: 'FAILED', detail: detail.slice(0, 500) });
  }

  private log(change: QrCodeChange): void {
    this.state.history.push(change);
    if (this.state.history.length > MAX_HISTORY_ENTRIES) {
      this.state.history.splice(0, this.state.history.length - MAX_HISTORY_ENTRIES);
    }
  }
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';
const TAXI_MCC = '4121';
const MAX_RATE = 0.05;

/** Cheap shape checks so that a bad request is refused at once, before any gateway call. */
function whyInvalidInfo(value: unknown): Refusal | undefined {
  if (typeof value !== 'object' || value === null) return invalid('info must be an object');
  const info = value as Partial<QrCodeInput>;
  for (const field of ['secondaryMerchantId', 'secondaryMerchantName', 'storeId'] as const) {
    if (!nonEmpty(info[field])) return invalid(`${field} is required`, field);
  }
  if (!/^\d{4}$/.test(String(info.merchantCategoryCode))) {
    return invalid('merchantCategoryCode must be a 4-digit MCC', 'merchantCategoryCode');
  }
  if (info.merchantCategoryCode !== TAXI_MCC && !nonEmpty(info.storeName)) {
    return invalid('storeName is required (except for taxis, MCC 4121)', 'storeName');
  }
  if (info.merchantCategoryCode === TAXI_MCC && info.taxi === undefined) {
    return invalid('taxi data is required for MCC 4121', 'taxi');
  }
  for (const field of ['pricingCurrency', 'settlementCurrency'] as const) {
    if (!isSupportedCurrency(String(info[field])))
      return invalid(`${field} must be a supported ISO 4217 code`, field);
  }
  const fee =
    info.channelFee === undefined
      ? undefined
      : whyInvalidFee(info.channelFee, info.settlementCurrency);
  return fee === undefined ? undefined : invalid(fee, 'channelFee');
}

function whyInvalidFee(fee: QrCodeInput['channelFee'], settlement: unknown): string | undefined {
  if (fee?.type === 'RATE') {
    const rate = Number(fee.rate);
    return /^\d+(\.\d+)?$/.test(String(fee.rate)) && rate >= 0 && rate <= MAX_RATE
      ? undefined
      : `channelFee rate must be a decimal in [0, ${MAX_RATE}]`;
  }
  if (fee?.type === 'FIXED') {
    const { amount } = fee;
    if (!amount || !Number.isSafeInteger(amount.minor) || amount.minor < 0) {
      return 'channelFee amount must be a non-negative amount in minor units';
    }
    return amount.currency === settlement
      ? undefined
      : `a FIXED channelFee is in the settlement currency (${String(settlement)}), not ${amount.currency}`;
  }
  return 'channelFee type must be FIXED or RATE';
}
