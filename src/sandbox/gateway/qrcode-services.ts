import { QR_CODE_BIZ_TYPE } from '../../alipay/services';
import { parseCodeData } from '../state/biz-data';
import type { StatusChange } from '../state/codes';
import { limitLength, requireOneOf } from './checks';
import type { ServiceContext, ServiceResult } from './service';

/**
 * CREATE, MODIFY and MODIFYSTATUS (MAPI.md §6–8). The business node is named `qrcodeinfo`
 * (one SDK expects it; unconfirmed [R]) and carries only the code fields on success, as in the
 * MAPI.md examples; refusals add `result_code=FAIL` and `error` [R].
 */

const NODE = 'qrcodeinfo';

function checkCommon(ctx: ServiceContext): void {
  requireOneOf(ctx.params, 'biz_type', [QR_CODE_BIZ_TYPE]);
  limitLength(ctx.params, 'notify_url', 200);
  limitLength(ctx.params, 'biz_data', 2000);
}

/** CREATE: get-or-create the code of the (PMS, fee) slot. */
export function create(ctx: ServiceContext): ServiceResult {
  checkCommon(ctx);
  const data = parseCodeData(ctx.params.biz_data as string);
  const { code } = ctx.core.codes.create(
    ctx.partner,
    data,
    ctx.params.notify_url || undefined,
    ctx.now,
  );
  return { node: NODE, fields: { qrcode: code.qrcode, qrcode_img_url: code.imgUrl } };
}

/** MODIFY: replace the code's data (and notification URL when given). */
export function modify(ctx: ServiceContext): ServiceResult {
  checkCommon(ctx);
  const data = parseCodeData(ctx.params.biz_data as string);
  const code = ctx.core.codes.modify(
    ctx.partner,
    ctx.params.qrcode as string,
    data,
    ctx.params.notify_url || undefined,
    ctx.now,
  );
  return { node: NODE, fields: { qrcode: code.qrcode } };
}

/** MODIFYSTATUS: STOP, RESTART or DELETE. */
export function modifyStatus(ctx: ServiceContext): ServiceResult {
  checkCommon(ctx);
  requireOneOf(ctx.params, 'status', ['STOP', 'RESTART', 'DELETE']);
  const code = ctx.core.codes.setStatus(
    ctx.partner,
    ctx.params.qrcode as string,
    ctx.params.status as StatusChange,
    ctx.now,
  );
  return { node: NODE, fields: { qrcode: code.qrcode } };
}

/** Fields echoed in a FAIL / UNKNOWN node of the QR services. */
export function qrcodeEcho(params: Readonly<Record<string, string>>): Record<string, string> {
  return params.qrcode ? { qrcode: params.qrcode } : {};
}
