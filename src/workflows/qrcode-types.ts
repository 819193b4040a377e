/**
 * Data shapes of the MerchantQrCodeWorkflow: its input, the state it exposes and its workflow
 * ID. Plain JSON-serialisable types (they travel as Temporal payloads); pure code, usable in the
 * workflow, the HTTP layer and clients alike.
 */
import type { QrCodeInput, QrCodeStatusChange } from '../alipay';

export type { QrCodeInput, QrCodeStatusChange } from '../alipay';

/**
 * Where a code is in its life. `CREATING` only until the first CREATE succeeded;
 * then ACTIVE -STOP-> STOPPED -RESTART-> ACTIVE, and ACTIVE | STOPPED -DELETE-> DELETED (terminal).
 */
export type QrCodeLifecycle = 'CREATING' | 'ACTIVE' | 'STOPPED' | 'DELETED';

/** One entry of a code's change history. */
export interface QrCodeChange {
  /** Epoch milliseconds from the workflow clock. */
  at: number;
  action: 'CREATE' | 'MODIFY' | QrCodeStatusChange | 'CONTINUED_AS_NEW';
  outcome: 'APPLIED' | 'FAILED';
  /** Why it failed (the gateway's message), or a note. */
  detail?: string;
}

/** What query `state` returns (and what every Update returns after it applied its change). */
export interface QrCodeState {
  status: QrCodeLifecycle;
  partnerId: string;
  storeId: string;
  /** True for the store's code that carries a `channelFee` (at most one of each per store). */
  withFee: boolean;
  /** The code content (`https://qr.alipay.com/…`); absent while CREATING. */
  qrcode?: string;
  /** Alipay-hosted picture of the code, when Alipay returned one. */
  imageUrl?: string;
  /** The code's current data, exactly as last sent to Alipay. */
  info: QrCodeInput;
  /** Newest last; capped at {@link MAX_HISTORY_ENTRIES} (oldest dropped). */
  history: QrCodeChange[];
  /** How many runs this workflow has continued from (0 on the first run). */
  continuedRuns: number;
}

/** Start input of the MerchantQrCodeWorkflow. */
export interface MerchantQrCodeInput {
  partnerId: string;
  /** The code's data; `info.storeId` and the presence of `info.channelFee` pick the store slot. */
  info: QrCodeInput;
  /**
   * Continue-as-new once the run's history has this many events (or when the server suggests
   * it, whichever comes first). Default {@link DEFAULT_MAX_HISTORY_EVENTS}.
   */
  maxHistoryEvents?: number;
  /** Set by the workflow itself when it continues as new; never by a caller. */
  continued?: QrCodeState;
}

/** Default history length that triggers continue-as-new (the server suggests it at ~4K events too). */
export const DEFAULT_MAX_HISTORY_EVENTS = 2000;

/** Change-history entries kept (and carried across continue-as-new). */
export const MAX_HISTORY_ENTRIES = 200;

/** Failure type of an Update refused by its validator (nothing was sent to Alipay). */
export const QR_CODE_UPDATE_REJECTED = 'QrCodeUpdateRejected';

/** Failure type of an Update whose gateway call failed for good (the code is unchanged). */
export const QR_CODE_GATEWAY_FAILED = 'QrCodeGatewayFailed';

/** Failure type of a workflow whose input cannot describe a code (nothing was sent). */
export const QR_CODE_INVALID_INPUT = 'QrCodeInvalidInput';

/**
 * The ID of the one MerchantQrCodeWorkflow of a store slot: partner + store + fee variant
 * (Alipay allows one code with and one without a channel fee per store). Readable in the Web UI,
 * e.g. `qrcode/2088101122136241/S01/no-fee`. Pure: safe in workflows and clients.
 */
export function qrCodeWorkflowId(partnerId: string, storeId: string, withFee: boolean): string {
  return `qrcode/${partnerId}/${storeId}/${withFee ? 'fee' : 'no-fee'}`;
}
