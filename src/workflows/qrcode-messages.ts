import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { QrCodeInput, QrCodeState, QrCodeStatusChange } from './qrcode-types';

/**
 * Every message of the MerchantQrCodeWorkflow, defined once and imported by the workflow, the
 * merchant API and the client alike (re-exported by `messages.ts`).
 *
 * Both Updates are validated synchronously (a refused one is never written to history and
 * fails with type `QrCodeUpdateRejected` and the reason), then applied one at a time through
 * MODIFY / MODIFYSTATUS; each returns the code's state after the change. A gateway failure
 * that retries cannot fix fails the Update with type `QrCodeGatewayFailed`; the code is then
 * unchanged.
 */

/** MODIFY: replace the code's data (always the complete set, MAPI.md §7.1). */
export const modifyQrCodeUpdate = defineUpdate<QrCodeState, [QrCodeInput]>('modify');

/** MODIFYSTATUS: STOP an active code, RESTART a stopped one, or DELETE it (final: the workflow ends). */
export const setQrCodeStatusUpdate = defineUpdate<QrCodeState, [QrCodeStatusChange]>('setStatus');

/**
 * The code's state: status (CREATING | ACTIVE | STOPPED | DELETED), `qrcode`, image URL, data
 * and change history. It is also how another workflow or the notification receiver asks "is
 * this code known and active": query the store's workflow (ID from `qrCodeWorkflowId`) and
 * check `status === 'ACTIVE'` and `qrcode` equal to the paid code. Workflows cannot query, so a
 * PaymentWorkflow asks through an activity (a Temporal client call) — or, when the workflow is
 * gone (DELETED codes end it), treats "not found" as "not active".
 */
export const qrCodeStateQuery = defineQuery<QrCodeState>('state');
