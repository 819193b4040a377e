import {
  createMd5Signer,
  createRsaSigner,
  isSignType,
  type Signer,
  type SignType,
} from '../alipay/signing';
import type { KeyInput } from '../alipay/keys';
import { DEFAULT_SANDBOX_MD5_KEY, DEFAULT_SANDBOX_PARTNER } from './defaults';
import { SandboxError } from './errors';

/**
 * A partner the sandbox knows, with the keys of Alipay's side of the wire: the shared MD5 key,
 * and/or Alipay's RSA private key (signs answers and notifications) with the merchant's public
 * key (verifies requests). RSA and RSA2 use the same key pair, as on the real portal.
 */
export interface SandboxPartnerConfig {
  /** 16-digit partner ID (`2088…`). */
  partner: string;
  /** Enables `sign_type=MD5`. */
  md5Key?: string;
  /** Alipay's private key (PEM or base64 DER); with `merchantPublicKey` enables RSA and RSA2. */
  alipayPrivateKey?: KeyInput;
  /** The merchant's public key, as uploaded to the portal. */
  merchantPublicKey?: KeyInput;
  /** Sign type of payment notifications (default: MD5 when an MD5 key is set, else RSA2). */
  notifySignType?: SignType;
}

/** The default partner of MAPI.md's MADE-UP examples (MD5 only). */
export const DEFAULT_PARTNER_CONFIG: SandboxPartnerConfig = Object.freeze({
  partner: DEFAULT_SANDBOX_PARTNER,
  md5Key: DEFAULT_SANDBOX_MD5_KEY,
});

/** A configured partner with its ready signers. */
export interface SandboxPartner {
  readonly partner: string;
  readonly signers: ReadonlyMap<SignType, Signer>;
  readonly notifySignType: SignType;
}

const PARTNER_ID = /^(2088|2160)\d{12}$/;

function build(config: SandboxPartnerConfig): SandboxPartner {
  const { partner } = config;
  const bad = (why: string): never => {
    throw new SandboxError('SANDBOX_BAD_CONFIG', `partner ${partner}: ${why}`);
  };
  if (!PARTNER_ID.test(partner)) bad('a partner ID is 16 digits starting 2088 or 2160');
  const signers = new Map<SignType, Signer>();
  if (config.md5Key !== undefined)
    signers.set('MD5', createMd5Signer(config.md5Key, `${partner} MD5 key`));
  if ((config.alipayPrivateKey === undefined) !== (config.merchantPublicKey === undefined)) {
    bad('RSA needs both alipayPrivateKey and merchantPublicKey');
  }
  if (config.alipayPrivateKey !== undefined && config.merchantPublicKey !== undefined) {
    for (const signType of ['RSA', 'RSA2'] as const) {
      signers.set(
        signType,
        createRsaSigner({
          signType,
          privateKey: config.alipayPrivateKey,
          peerPublicKey: config.merchantPublicKey,
          privateKeyLabel: `${partner} Alipay private key`,
          peerPublicKeyLabel: `${partner} merchant public key`,
        }),
      );
    }
  }
  if (signers.size === 0) bad('configure an md5Key and/or an RSA key pair');
  const notifySignType = config.notifySignType ?? (signers.has('MD5') ? 'MD5' : 'RSA2');
  if (!isSignType(notifySignType) || !signers.has(notifySignType))
    bad(`notifySignType ${String(notifySignType)} has no key`);
  return { partner, signers, notifySignType };
}

/** The partners of one sandbox, by partner ID. */
export class PartnerRegistry {
  private readonly byId = new Map<string, SandboxPartner>();

  constructor(configs: readonly SandboxPartnerConfig[]) {
    for (const config of configs) {
      if (this.byId.has(config.partner))
        throw new SandboxError('SANDBOX_BAD_CONFIG', `partner ${config.partner} configured twice`);
      this.byId.set(config.partner, build(config));
    }
    if (this.byId.size === 0)
      throw new SandboxError('SANDBOX_BAD_CONFIG', 'at least one partner is needed');
  }

  get(partner: string | undefined): SandboxPartner | undefined {
    return partner === undefined ? undefined : this.byId.get(partner);
  }

  /** The signer of `partner` for `signType`, if that sign type is configured. */
  signer(partner: string | undefined, signType: string | undefined): Signer | undefined {
    if (!isSignType(signType)) return undefined;
    return this.get(partner)?.signers.get(signType);
  }

  list(): SandboxPartner[] {
    return [...this.byId.values()];
  }
}
