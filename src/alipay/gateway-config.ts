import { normalizeCharset, type Charset } from './charset';
import { CharsetError, GatewayConfigError } from './errors';
import type { KeyInput } from './keys';
import {
  createMd5Signer,
  createRsaSigner,
  isSignType,
  type SignType,
  type Signer,
} from './signing';
import { PARTNER_ID, isHttpUrl } from './validation';

/** Known `gateway.do` endpoints (MAPI.md §2.1). The simulator's URL is whatever it listens on. */
export const GATEWAY_URLS = Object.freeze({
  /** Global production, "priority". */
  production: 'https://globalmapi.alipay.com/gateway.do',
  /** Global production, "backup"; the only one on hkapi pages. Fail over for QUERY only. */
  backup: 'https://intlmapi.alipay.com/gateway.do',
  /** Legacy host of older SDKs. */
  legacy: 'https://mapi.alipay.com/gateway.do',
  /** Alipay's sandbox per the docs. */
  sandbox: 'https://mapi.alipaydev.com/gateway.do',
  /** Sandbox host of several SDK samples (equivalence unconfirmed). */
  sandboxOpenapi: 'https://openapi.alipaydev.com/gateway.do',
});

/** How the engine talks to `gateway.do`. Read and validated once, at start-up. */
export interface GatewayConfig {
  readonly gatewayUrl: string;
  /** Partner ID: 16 digits, `2088…` (HK also `2160…`). */
  readonly partner: string;
  readonly signType: SignType;
  /** MD5 key (sign type MD5). */
  readonly md5Key?: string;
  /** Merchant private key (RSA / RSA2): PEM or bare base64, PKCS#1 or PKCS#8. */
  readonly privateKey?: KeyInput;
  /** Alipay's public key (RSA / RSA2): PEM or bare base64, SPKI or PKCS#1. */
  readonly alipayPublicKey?: KeyInput;
  /** `_input_charset`; default UTF-8 (`GB2312` accepted as GBK). */
  readonly charset?: Charset | 'GB2312';
  /** Default POST; `notify_verify` always uses GET. */
  readonly method?: 'GET' | 'POST';
  /** Default 3000 (the Java SDK's value). */
  readonly connectTimeoutMs?: number;
  /** Default 15000 (the Java SDK's value). */
  readonly readTimeoutMs?: number;
  /** Default `notify_url` for the QR-code services (URL(200)). */
  readonly notifyUrl?: string;
  /** Cap on a gateway answer; default 256 KiB. */
  readonly maxResponseBytes?: number;
  /** Charset of notifications whose `Content-Type` declares none; default = `charset`. */
  readonly notificationCharset?: Charset | 'GB2312';
  /** [R] CANCEL `timestamp` format: `epochMs` (documented, default) or `gmt8` (Java SDK sample). */
  readonly cancelTimestampFormat?: 'epochMs' | 'gmt8';
  /** `refund_reson` for hkapi accounts; default `refund_reason`. */
  readonly refundReasonField?: 'refund_reason' | 'refund_reson';
  /** [D vs S] sign `notify_verify` (default true; the SDKs do not). */
  readonly signNotifyVerify?: boolean;
  /** Allow plain http to a non-loopback host (e.g. the simulator in a container network). */
  readonly allowInsecureHttp?: boolean;
  /** Names of the keys in errors (e.g. the env variables they came from). */
  readonly keyLabels?: {
    readonly md5Key?: string;
    readonly privateKey?: string;
    readonly alipayPublicKey?: string;
  };
}

/** {@link GatewayConfig} with defaults applied and without key material. */
export interface ResolvedGatewayConfig {
  readonly gatewayUrl: string;
  readonly partner: string;
  readonly signType: SignType;
  readonly charset: Charset;
  readonly notificationCharset: Charset;
  readonly method: 'GET' | 'POST';
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly notifyUrl: string | undefined;
  readonly maxResponseBytes: number;
  readonly cancelTimestampFormat: 'epochMs' | 'gmt8';
  readonly refundReasonField: 'refund_reason' | 'refund_reson';
  readonly signNotifyVerify: boolean;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function positiveInt(
  field: string,
  value: number | undefined,
  fallback: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0 || value > max) {
    throw new GatewayConfigError(field, `must be an integer in 1..${max}`);
  }
  return value;
}

function charsetOf(field: string, value: string | undefined, fallback: Charset): Charset {
  if (value === undefined) return fallback;
  try {
    return normalizeCharset(value);
  } catch (err) {
    if (err instanceof CharsetError) throw new GatewayConfigError(field, 'must be UTF-8 or GBK');
    throw err;
  }
}

/** Validates a {@link GatewayConfig} and applies defaults. Throws {@link GatewayConfigError}. */
export function resolveGatewayConfig(config: GatewayConfig): ResolvedGatewayConfig {
  let url: URL;
  try {
    url = new URL(config.gatewayUrl);
  } catch {
    throw new GatewayConfigError('gatewayUrl', 'is not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new GatewayConfigError('gatewayUrl', 'must be http(s)');
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname) && !config.allowInsecureHttp) {
    throw new GatewayConfigError(
      'gatewayUrl',
      'must be https (plain http only for loopback or with allowInsecureHttp)',
    );
  }
  if (url.username || url.password || url.hash)
    throw new GatewayConfigError('gatewayUrl', 'must not carry credentials or a fragment');
  if (typeof config.partner !== 'string' || !PARTNER_ID.test(config.partner)) {
    throw new GatewayConfigError('partner', 'must be 16 digits starting 2088 or 2160');
  }
  if (!isSignType(config.signType))
    throw new GatewayConfigError('signType', 'must be MD5, RSA or RSA2');
  if (config.method !== undefined && config.method !== 'GET' && config.method !== 'POST') {
    throw new GatewayConfigError('method', 'must be GET or POST');
  }
  if (
    config.notifyUrl !== undefined &&
    (!isHttpUrl(config.notifyUrl) ||
      config.notifyUrl.length > 200 ||
      config.notifyUrl.includes('"'))
  ) {
    throw new GatewayConfigError(
      'notifyUrl',
      'must be an absolute http(s) URL of at most 200 characters',
    );
  }
  const charset = charsetOf('charset', config.charset, 'UTF-8');
  return {
    gatewayUrl: url.href,
    partner: config.partner,
    signType: config.signType,
    charset,
    notificationCharset: charsetOf('notificationCharset', config.notificationCharset, charset),
    method: config.method ?? 'POST',
    connectTimeoutMs: positiveInt('connectTimeoutMs', config.connectTimeoutMs, 3000, 120_000),
    readTimeoutMs: positiveInt('readTimeoutMs', config.readTimeoutMs, 15_000, 600_000),
    notifyUrl: config.notifyUrl,
    maxResponseBytes: positiveInt(
      'maxResponseBytes',
      config.maxResponseBytes,
      256 * 1024,
      64 * 1024 * 1024,
    ),
    cancelTimestampFormat: config.cancelTimestampFormat ?? 'epochMs',
    refundReasonField: config.refundReasonField ?? 'refund_reason',
    signNotifyVerify: config.signNotifyVerify ?? true,
  };
}

/** Builds the engine's signer: MD5 key, or merchant private key + Alipay public key. */
export function signerFromConfig(config: GatewayConfig): Signer {
  const labels = config.keyLabels ?? {};
  if (config.signType === 'MD5') {
    const label = labels.md5Key ?? 'ALIPAY_MD5_KEY';
    if (config.md5Key === undefined)
      throw new GatewayConfigError(label, 'is required for sign type MD5');
    return createMd5Signer(config.md5Key, label);
  }
  const privateLabel = labels.privateKey ?? 'MERCHANT_PRIVATE_KEY';
  const publicLabel = labels.alipayPublicKey ?? 'ALIPAY_PUBLIC_KEY';
  if (config.privateKey === undefined)
    throw new GatewayConfigError(privateLabel, `is required for sign type ${config.signType}`);
  if (config.alipayPublicKey === undefined)
    throw new GatewayConfigError(publicLabel, `is required for sign type ${config.signType}`);
  return createRsaSigner({
    signType: config.signType,
    privateKey: config.privateKey,
    peerPublicKey: config.alipayPublicKey,
    privateKeyLabel: privateLabel,
    peerPublicKeyLabel: publicLabel,
  });
}
