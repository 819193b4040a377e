import { Context } from '@temporalio/activity';
import type { QrCodeInput, QrCodeResult, QrCodeStatusChange, QrCodeStatusResult } from '../alipay';
import { ensureSignsFor, type ActivityDeps } from './deps';

/** Failure type when a workflow asks for a partner this worker does not sign for. Final. */
export const PARTNER_MISMATCH_FAILURE = 'QrCodePartnerMismatch';

/** CREATE input: which partner the code belongs to (checked against the gateway's) and its data. */
export interface CreateQrCodeArgs {
  readonly partnerId: string;
  readonly info: QrCodeInput;
}

/** MODIFY input: the code and its complete new data (MAPI.md §7.1: always the full set). */
export interface ModifyQrCodeArgs {
  readonly partnerId: string;
  readonly qrcode: string;
  readonly info: QrCodeInput;
}

/** MODIFYSTATUS input. */
export interface SetQrCodeStatusArgs {
  readonly partnerId: string;
  readonly qrcode: string;
  readonly status: QrCodeStatusChange;
}

/**
 * Gateway activities of the MerchantQrCodeWorkflow: thin adapters over {@link ActivityDeps.gateway}.
 *
 * Gateway errors are thrown as they are: their class name (e.g. `AlipaySystemError`) becomes
 * the Temporal failure type, which the workflow's retry policy classifies with the list of
 * non-retryable classes. Every call passes the activity's cancellation signal to the gateway.
 */
export function createQrCodeActivities(deps: ActivityDeps) {
  const ensurePartner = (partnerId: string): void =>
    ensureSignsFor(deps, partnerId, PARTNER_MISMATCH_FAILURE);
  const call = () => ({ signal: Context.current().cancellationSignal });

  return {
    /** CREATE, which Alipay treats as get-or-create per store and fee variant: safe to retry. */
    async createQrCode({ partnerId, info }: CreateQrCodeArgs): Promise<QrCodeResult> {
      ensurePartner(partnerId);
      return deps.gateway.createQrCode(info, call());
    },

    /** MODIFY with the complete data set. Idempotent: repeating it sends the same data. */
    async modifyQrCode({ partnerId, qrcode, info }: ModifyQrCodeArgs): Promise<QrCodeResult> {
      ensurePartner(partnerId);
      return deps.gateway.modifyQrCode(qrcode, info, call());
    },

    /** MODIFYSTATUS. Alipay accepts a repeat of the current target state, so retries are safe. */
    async setQrCodeStatus({
      partnerId,
      qrcode,
      status,
    }: SetQrCodeStatusArgs): Promise<QrCodeStatusResult> {
      ensurePartner(partnerId);
      return deps.gateway.setQrCodeStatus(qrcode, status, call());
    },
  };
}

/** The QR-code activities as the workflow proxies them (types only). */
export type QrCodeActivities = ReturnType<typeof createQrCodeActivities>;
