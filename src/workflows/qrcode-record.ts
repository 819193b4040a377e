import { isSupportedCurrency } from '../money';
import {
  MAX_HISTORY_ENTRIES,
  type QrCodeChange,
  type QrCodeInput,
  type QrCodeLifecycle,
  type QrCodeState,
  type QrCodeStatusChange,
} from './qrcode-types';

/**
 * The state of one merchant QR code that the workflow's handlers share, and the rules that
 * decide which changes may be asked of it. Every `whyNot…` method returns the reason a request
 * is refused (for an Update validator, and again when the handler's turn comes), or undefined.
 * Pure and deterministic: times come from the caller (the workflow clock).
 */
export class QrCodeRecord {
  private constructor(private readonly state: QrCodeState) {}

  /** A fresh code, not created yet (check the input with {@link QrCodeRecord.whyInvalidStart} first). */
  static start(partnerId: string, info: QrCodeInput): QrCodeRecord {
    return new QrCodeRecord({
      status: 'CREATING',
      partnerId,
      storeId: info.storeId,
      withFee: info.channelFee !== undefined,
      info,
      history: [],
      continuedRuns: 0,
    });
  }

  /** The state carried over by continue-as-new. */
  static resume(carried: QrCodeState, at: number): QrCodeRecord {
    const record = new QrCodeRecord({ ...carried, continuedRuns: carried.continuedRuns + 1 });
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

  /** A copy for queries and Update results (handlers keep mutating the original). */
  snapshot(): QrCodeState {
    return JSON.parse(JSON.stringify(this.state)) as QrCodeState;
  }

  /** Why a start input cannot describe a code of this partner, if it cannot. */
  static whyInvalidStart(partnerId: unknown, info: unknown): string | undefined {
    if (typeof partnerId !== 'string' || !/^\d{16}$/.test(partnerId)) {
      return 'partnerId must be the 16-digit Alipay partner ID';
    }
    return whyInvalidInfo(info);
  }

  /** Why `modify(info)` is refused: a deleted code, invalid data, or an immutable field changed. */
  whyNotModify(info: unknown): string | undefined {
    if (this.state.status === 'DELETED')
      return 'the code was deleted; a deleted code cannot be modified';
    const invalid = whyInvalidInfo(info);
    if (invalid) return invalid;
    const next = info as QrCodeInput;
    const now = this.state.info;
    if (next.secondaryMerchantId !== now.secondaryMerchantId) {
      return `secondaryMerchantId cannot change after creation (is ${now.secondaryMerchantId})`;
    }
    if ((next.serviceProviderId ?? '') !== (now.serviceProviderId ?? '')) {
      return `serviceProviderId cannot change after creation (is ${now.serviceProviderId ?? 'unset'})`;
    }
    if (next.storeId !== now.storeId) {
      return `storeId cannot change: this workflow manages the code of store ${now.storeId}; create one for the other store instead`;
    }
    if (this.state.withFee && next.channelFee === undefined) {
      return "a channel fee present at creation cannot be removed; use the store's no-fee code instead";
    }
    if (!this.state.withFee && next.channelFee !== undefined) {
      return "this is the store's no-fee code; adding a channel fee would make it the fee variant — use the fee-variant code instead";
    }
    return undefined;
  }

  /** Why `setStatus(change)` is refused, following ACTIVE -STOP-> STOPPED -RESTART-> ACTIVE, -DELETE-> DELETED. */
  whyNotChangeStatus(change: unknown): string | undefined {
    if (change !== 'STOP' && change !== 'RESTART' && change !== 'DELETE') {
      return `unknown status change ${JSON.stringify(change)}; expected STOP, RESTART or DELETE`;
    }
    const status = this.state.status;
    if (status === 'DELETED')
      return `the code was deleted; DELETE is final, ${change} is not possible`;
    if (change === 'STOP' && status === 'STOPPED') return 'the code is already stopped';
    if (change === 'RESTART' && status !== 'STOPPED') {
      return status === 'CREATING'
        ? 'the code is being created and will be active; only a stopped code can be restarted'
        : 'the code is active; only a stopped code can be restarted';
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
function whyInvalidInfo(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'info must be an object';
  const info = value as Partial<QrCodeInput>;
  for (const field of ['secondaryMerchantId', 'secondaryMerchantName', 'storeId'] as const) {
    if (!nonEmpty(info[field])) return `${field} is required`;
  }
  if (!/^\d{4}$/.test(String(info.merchantCategoryCode))) {
    return 'merchantCategoryCode must be a 4-digit MCC';
  }
  if (info.merchantCategoryCode !== TAXI_MCC && !nonEmpty(info.storeName)) {
    return 'storeName is required (except for taxis, MCC 4121)';
  }
  if (info.merchantCategoryCode === TAXI_MCC && info.taxi === undefined) {
    return 'taxi data is required for MCC 4121';
  }
  for (const field of ['pricingCurrency', 'settlementCurrency'] as const) {
    if (!isSupportedCurrency(String(info[field])))
      return `${field} must be a supported ISO 4217 code`;
  }
  return info.channelFee === undefined
    ? undefined
    : whyInvalidFee(info.channelFee, info.settlementCurrency);
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
