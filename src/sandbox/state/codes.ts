import type { CodeData } from './biz-data';
import type { IdFactory } from './ids';
import { BusinessRefusal, DetailCode, MapiError } from '../refusals';

/** Lifecycle of a merchant QR code (MAPI.md §8.1). */
export type CodeStatus = 'ACTIVE' | 'STOPPED' | 'DELETED';

/** MODIFYSTATUS targets. */
export type StatusChange = 'STOP' | 'RESTART' | 'DELETE';

/** A merchant QR code as Alipay keeps it. */
export interface QrCode {
  readonly qrcode: string;
  readonly imgUrl: string;
  readonly partner: string;
  data: CodeData;
  /** The code's notification URL (CREATE, replaceable by MODIFY [R]). */
  notifyUrl: string | undefined;
  status: CodeStatus;
  readonly createdAt: number;
  updatedAt: number;
  /** Every change, oldest first, for inspection. */
  readonly history: { at: number; action: string }[];
}

/** A QR-service refusal: documented `ILLEGAL_ARGUMENT` plus the precise reason [R]. */
function refusal(detailCode: string, detail: string): BusinessRefusal {
  return new BusinessRefusal(MapiError.ILLEGAL_ARGUMENT, detail, { detail_error_code: detailCode });
}

/** The "PMS" slot of MAPI.md §1: partner + secondary merchant + store, with or without fee. */
function slotKey(partner: string, data: CodeData): string {
  return JSON.stringify([
    partner,
    data.secondaryMerchantId,
    data.storeId,
    data.channelFee !== undefined,
  ]);
}

/**
 * The QR codes of all partners, with CREATE's get-or-create and at-most-two-per-store rule
 * and MODIFYSTATUS's state machine (ACTIVE -STOP-> STOPPED -RESTART-> ACTIVE; any -DELETE->
 * DELETED, terminal).
 */
export class CodeBook {
  private readonly byCode = new Map<string, QrCode>();
  private readonly bySlot = new Map<string, QrCode>();

  constructor(private readonly ids: IdFactory) {}

  /**
   * CREATE: returns the live code of the slot if there is one (unchanged: Alipay "returns the
   * data of an existing code", MAPI.md §1), else a new ACTIVE code. A DELETED code frees its
   * slot [R: not documented, MAPI.md §16.16].
   */
  create(
    partner: string,
    data: CodeData,
    notifyUrl: string | undefined,
    now: number,
  ): { code: QrCode; created: boolean } {
    const key = slotKey(partner, data);
    const existing = this.bySlot.get(key);
    if (existing && existing.status !== 'DELETED') return { code: existing, created: false };
    const { qrcode, imgUrl } = this.ids.qrcode();
    const code: QrCode = {
      qrcode,
      imgUrl,
      partner,
      data,
      notifyUrl,
      status: 'ACTIVE',
      createdAt: now,
      updatedAt: now,
      history: [{ at: now, action: 'CREATE' }],
    };
    this.byCode.set(qrcode, code);
    this.bySlot.set(key, code);
    return { code, created: true };
  }

  /**
   * MODIFY: replaces the code's data (send the complete `biz_data`, MAPI.md §7.1 [R]), keeping
   * the rules that `secondary_merchant_id` and `sys_service_provider_id` cannot change and a
   * `channel_fee` present at creation cannot be removed. A new `notify_url` replaces the old.
   */
  modify(
    partner: string,
    qrcode: string,
    data: CodeData,
    notifyUrl: string | undefined,
    now: number,
  ): QrCode {
    const code = this.live(partner, qrcode, 'MODIFY');
    const before = code.data;
    const immutable = (what: string): never => {
      throw refusal(DetailCode.QRCODE_FIELD_IMMUTABLE, `${what} cannot be changed by MODIFY`);
    };
    if (data.secondaryMerchantId !== before.secondaryMerchantId) immutable('secondary_merchant_id');
    if (data.sysServiceProviderId !== before.sysServiceProviderId)
      immutable('sys_service_provider_id');
    if (before.channelFee && !data.channelFee) immutable('channel_fee (present at creation)');
    const oldKey = slotKey(partner, before);
    const newKey = slotKey(partner, data);
    if (newKey !== oldKey) {
      // [R] moving to another store, or adding a fee, must not create a third code per store.
      const occupant = this.bySlot.get(newKey);
      if (occupant && occupant.status !== 'DELETED')
        immutable('store_id / channel_fee (the target slot has a code)');
      this.bySlot.delete(oldKey);
      this.bySlot.set(newKey, code);
    }
    code.data = data;
    if (notifyUrl !== undefined) code.notifyUrl = notifyUrl;
    code.updatedAt = now;
    code.history.push({ at: now, action: 'MODIFY' });
    return code;
  }

  /**
   * MODIFYSTATUS. Repeating the current target state succeeds (idempotent per target state,
   * MAPI.md §13.3 [R]); RESTART or any change of a DELETED code is refused.
   */
  setStatus(partner: string, qrcode: string, change: StatusChange, now: number): QrCode {
    const code = this.own(partner, qrcode);
    if (code.status === 'DELETED') {
      if (change === 'DELETE') return code;
      throw refusal(DetailCode.QRCODE_STATUS_ERROR, `a DELETED code cannot ${change}`);
    }
    code.status = change === 'STOP' ? 'STOPPED' : change === 'RESTART' ? 'ACTIVE' : 'DELETED';
    code.updatedAt = now;
    code.history.push({ at: now, action: change });
    return code;
  }

  /** A code by its content, any partner, any status. */
  get(qrcode: string): QrCode | undefined {
    return (
      this.byCode.get(qrcode) ??
      [...this.byCode.values()].find((c) => c.qrcode.endsWith(`/${qrcode}`))
    );
  }

  /** Every code, oldest first. */
  list(): QrCode[] {
    return [...this.byCode.values()];
  }

  /**
   * Puts back codes saved by an earlier sandbox (oldest first, as {@link list} returns them),
   * rebuilding the store slots: a slot belongs to its live code, else to its newest DELETED one.
   */
  restore(codes: readonly QrCode[]): void {
    for (const code of codes) {
      this.byCode.set(code.qrcode, code);
      const key = slotKey(code.partner, code.data);
      const occupant = this.bySlot.get(key);
      if (!occupant || occupant.status === 'DELETED') this.bySlot.set(key, code);
    }
  }

  private own(partner: string, qrcode: string): QrCode {
    const code = this.byCode.get(qrcode);
    if (!code || code.partner !== partner) {
      throw refusal(DetailCode.QRCODE_NOT_EXIST, `no code ${qrcode} for partner ${partner}`);
    }
    return code;
  }

  private live(partner: string, qrcode: string, action: string): QrCode {
    const code = this.own(partner, qrcode);
    if (code.status === 'DELETED')
      throw refusal(DetailCode.QRCODE_STATUS_ERROR, `a DELETED code cannot ${action}`);
    return code;
  }
}
