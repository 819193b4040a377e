/**
 * MAPI service names (MAPI.md §0), keyed by the short names Alipay's integration guide uses.
 * Note the capital `S` in `modifyStatus`.
 */
export const SERVICES = {
  CREATE: 'alipay.commerce.qrcode.create',
  MODIFY: 'alipay.commerce.qrcode.modify',
  MODIFYSTATUS: 'alipay.commerce.qrcode.modifyStatus',
  QUERY: 'alipay.acquire.overseas.query',
  CANCEL: 'alipay.acquire.cancel',
  REFUND: 'alipay.acquire.overseas.spot.refund',
  NOTIFY_VERIFY: 'notify_verify',
} as const;

export type ShortServiceName = keyof typeof SERVICES;
export type ServiceName = (typeof SERVICES)[ShortServiceName];

const SHORT_NAMES: ReadonlyMap<string, ShortServiceName> = new Map(
  (Object.entries(SERVICES) as [ShortServiceName, ServiceName][]).map(([short, name]) => [
    name,
    short,
  ]),
);

/** The short name (`QUERY`) of a MAPI service name, or undefined for a service not listed. */
export function shortServiceName(service: string): ShortServiceName | undefined {
  return SHORT_NAMES.get(service);
}

/** `biz_type` of the three QR-code services. */
export const QR_CODE_BIZ_TYPE = 'OVERSEASHOPQRCODE';

/** Calls that can move money: a lost answer leaves the outcome unknown. */
export function isMoneyMoving(service: string): boolean {
  return service === SERVICES.CANCEL || service === SERVICES.REFUND;
}

/** The QR-code services, whose answers may lack `result_code` ([R], MAPI.md §6.4). */
export function isQrCodeService(service: string): boolean {
  return (
    service === SERVICES.CREATE || service === SERVICES.MODIFY || service === SERVICES.MODIFYSTATUS
  );
}
