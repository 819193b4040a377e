import { isSignType, type Signer, type SignType } from '../../alipay/signing';
import type { Charset } from '../../alipay/charset';
import { parseGmt8 } from '../../time';
import type { PartnerRegistry, SandboxPartner } from '../partners';
import { GatewayRejection, MapiError } from '../refusals';
import { shortNameOf, type ServiceName } from '../service-names';

/**
 * The gateway-level checks every call goes through before its service runs, in the order the
 * sandbox applies them [R: the real order is not documented]: service, partner, sign type,
 * signature, required parameters, timestamp. Each failure is an `is_success=F` answer.
 */

type Params = Readonly<Record<string, string>>;

/** The known service named by `params.service`, or `ILLEGAL_SERVICE`. */
export function requireService(params: Params): ServiceName {
  const service = params.service;
  if (!service) throw new GatewayRejection(MapiError.ILLEGAL_SERVICE, 'service is missing');
  if (!shortNameOf(service))
    throw new GatewayRejection(
      MapiError.ILLEGAL_SERVICE,
      `unknown service ${JSON.stringify(service)}`,
    );
  return service as ServiceName;
}

/** The configured partner named by `params.partner`, or `ILLEGAL_PARTNER`. */
export function requirePartner(params: Params, partners: PartnerRegistry): SandboxPartner {
  const id = params.partner;
  if (!id) throw new GatewayRejection(MapiError.ILLEGAL_PARTNER, 'partner is missing');
  const partner = partners.get(id);
  if (!partner)
    throw new GatewayRejection(MapiError.ILLEGAL_PARTNER, `unknown partner ${JSON.stringify(id)}`);
  return partner;
}

/** The signer for the call's `sign_type`, when the partner has that key; otherwise undefined. */
export function signerFor(
  partner: SandboxPartner,
  signType: string | undefined,
): Signer | undefined {
  return isSignType(signType) ? partner.signers.get(signType) : undefined;
}

/**
 * Verifies `sign` with the partner's key for `sign_type`, over every other parameter in
 * `charset` (MAPI.md §4.1: all parameters, wherever they travelled). Returns the signer, also
 * used to sign the answer.
 */
export function requireSignature(
  params: Params,
  partner: SandboxPartner,
  charset: Charset,
): Signer {
  const signType = params.sign_type;
  if (!signType) throw new GatewayRejection(MapiError.ILLEGAL_SIGN_TYPE, 'sign_type is missing');
  if (!isSignType(signType))
    throw new GatewayRejection(
      MapiError.ILLEGAL_SIGN_TYPE,
      `unknown sign_type ${JSON.stringify(signType)}`,
    );
  const signer = partner.signers.get(signType as SignType);
  if (!signer)
    throw new GatewayRejection(
      MapiError.ILLEGAL_SIGN_TYPE,
      `partner ${partner.partner} has no ${signType} key`,
    );
  const sign = params.sign;
  if (!sign) throw new GatewayRejection(MapiError.ILLEGAL_SIGN, 'sign is missing');
  if (!signer.verify(params, sign, charset)) {
    throw new GatewayRejection(
      MapiError.ILLEGAL_SIGN,
      `${signType} signature does not match the parameters (charset ${charset})`,
    );
  }
  return signer;
}

/** Every name in `names` must be present and non-empty, else `ILLEGAL_ARGUMENT`. */
export function requireParams(params: Params, names: readonly string[]): void {
  const missing = names.filter((n) => !params[n]);
  if (missing.length > 0)
    throw new GatewayRejection(MapiError.ILLEGAL_ARGUMENT, `missing ${missing.join(', ')}`);
}

/** `params[name]`, if present, must be at most `max` characters. */
export function limitLength(params: Params, name: string, max: number): void {
  const v = params[name];
  if (v !== undefined && v.length > max) {
    throw new GatewayRejection(
      MapiError.ILLEGAL_ARGUMENT,
      `${name} is longer than ${max} characters`,
    );
  }
}

/** `params[name]` must be one of `allowed`. */
export function requireOneOf(params: Params, name: string, allowed: readonly string[]): void {
  const v = params[name];
  if (v === undefined || !allowed.includes(v)) {
    throw new GatewayRejection(
      MapiError.ILLEGAL_ARGUMENT,
      `${name} must be one of ${allowed.join(', ')}`,
    );
  }
}

/** How a service writes `timestamp` (MAPI.md §5.1). */
export type TimestampFormat = 'gmt8' | 'epoch-ms';

/**
 * Parses `timestamp` and refuses it outside `now ± windowMs` (MAPI.md §5.1: "expires after 30
 * minutes"). CANCEL documents epoch milliseconds but Alipay's own Java SDK sends the GMT+8
 * text, so CANCEL accepts both [R, MAPI.md §16.7]. A malformed value is `ILLEGAL_ARGUMENT`;
 * an out-of-window one `SESSION_TIMEOUT` [R].
 */
export function requireFreshTimestamp(
  value: string,
  format: TimestampFormat,
  now: number,
  windowMs: number,
): number {
  let at: number;
  if (/^\d{13}$/.test(value) && format === 'epoch-ms') at = Number(value);
  else {
    try {
      at = parseGmt8(value);
    } catch {
      const expected = format === 'gmt8' ? 'yyyy-MM-dd HH:mm:ss (GMT+8)' : 'epoch milliseconds';
      throw new GatewayRejection(
        MapiError.ILLEGAL_ARGUMENT,
        `timestamp ${JSON.stringify(value)} is not ${expected}`,
      );
    }
  }
  if (Math.abs(now - at) > windowMs) {
    const minutes = Math.round((now - at) / 60_000);
    throw new GatewayRejection(
      MapiError.SESSION_TIMEOUT,
      `timestamp is ${minutes} min away from Alipay's clock (window ${windowMs / 60_000} min)`,
    );
  }
  return at;
}
