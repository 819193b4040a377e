import { createPublicKey, sign as rsaSign, verify as rsaVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import * as nodeCrypto from 'node:crypto';
import { DEFAULT_CHARSET, encode, type Charset } from './charset';
import { KeyConfigError } from './errors';
import { loadPrivateKey, loadPublicKey, type KeyInput, type SignerKeyInfo } from './keys';
import { preSignString, type Params } from './presign';

export { preSignString, type Params } from './presign';

/** MAPI `sign_type` values. */
export type SignType = 'MD5' | 'RSA' | 'RSA2';

/** True for the three MAPI sign types. */
export function isSignType(value: unknown): value is SignType {
  return value === 'MD5' || value === 'RSA' || value === 'RSA2';
}

/**
 * Signs and verifies MAPI parameter sets. `sign` produces what goes into the `sign` parameter;
 * `verify` checks a peer's signature. Both hash the pre-sign string encoded in `charset`
 * (default UTF-8), which must be the charset the peer used.
 */
export interface Signer {
  readonly signType: SignType;
  sign(params: Params, charset?: Charset): string;
  verify(params: Params, signature: string, charset?: Charset): boolean;
  /** Public facts for the start-up self-test (never secret material). */
  readonly keyInfo?: SignerKeyInfo;
}

// `crypto.hash` (one-shot, Node >= 20.12) avoids a Hash object per call; fall back otherwise.
type OneShotHash = (algorithm: string, data: string | Buffer, encoding: 'hex') => string;
const oneShot = (nodeCrypto as unknown as { hash?: OneShotHash }).hash;
const md5Hex: (data: string | Buffer) => string = oneShot
  ? (data) => oneShot('md5', data, 'hex')
  : (data) => nodeCrypto.createHash('md5').update(data).digest('hex');

const MD5_HEX = /^[0-9a-fA-F]{32}$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * Compares our lower-case hex digest with a received 32-char hex signature (validated by the
 * caller, any case) without an early exit: the time does not depend on where they differ.
 */
function constantTimeHexEqual(expected: string, given: string): boolean {
  let diff = expected.length ^ given.length;
  for (let i = 0; i < expected.length; i++) {
    // `| 0x20` lower-cases A-F and leaves digits and a-f unchanged.
    diff |= expected.charCodeAt(i) ^ (given.charCodeAt(i) | 0x20);
  }
  return diff === 0;
}

class Md5Signer implements Signer {
  readonly signType = 'MD5' as const;
  readonly keyInfo: SignerKeyInfo;
  readonly #key: string;

  constructor(key: string, label: string) {
    if (typeof key !== 'string' || key.length === 0) {
      throw new KeyConfigError(label, 'MD5 key is empty');
    }
    if (!PRINTABLE_ASCII.test(key)) {
      throw new KeyConfigError(
        label,
        'MD5 key contains whitespace or non-ASCII characters (a stray newline from a file?)',
      );
    }
    this.#key = key;
    this.keyInfo = { kind: 'MD5', label, standardFormat: /^[0-9a-zA-Z]{32}$/.test(key) };
  }

  sign(params: Params, charset: Charset = DEFAULT_CHARSET): string {
    const text = preSignString(params) + this.#key;
    // UTF-8 strings go straight to the hash (same bytes, no intermediate Buffer).
    return md5Hex(charset === 'UTF-8' ? text : encode(text, charset));
  }

  verify(params: Params, signature: string, charset: Charset = DEFAULT_CHARSET): boolean {
    if (typeof signature !== 'string' || !MD5_HEX.test(signature)) return false;
    return constantTimeHexEqual(this.sign(params, charset), signature);
  }

  toJSON(): object {
    return { signType: this.signType, keyInfo: this.keyInfo };
  }
}

/**
 * An MD5 signer: `md5(preSign + key)` in lower-case hex (MAPI.md §4.2); verification is
 * case-insensitive and constant-time. `label` names the key in errors (e.g. `ALIPAY_MD5_KEY`).
 */
export function createMd5Signer(key: string, label = 'MD5_KEY'): Signer {
  return new Md5Signer(key, label);
}

/** Options of {@link createRsaSigner}. */
export interface RsaSignerOptions {
  readonly signType: 'RSA' | 'RSA2';
  /** Signs OUR messages (engine: merchant private key; sandbox: Alipay private key). */
  readonly privateKey?: KeyInput;
  /** Verifies the PEER's messages (engine: Alipay public key; sandbox: merchant public key). */
  readonly peerPublicKey?: KeyInput;
  /** Names used in errors; defaults `PRIVATE_KEY` / `PEER_PUBLIC_KEY`. */
  readonly privateKeyLabel?: string;
  readonly peerPublicKeyLabel?: string;
}

const BASE64_SIGNATURE = /^[A-Za-z0-9+/]+={0,2}$/;

class RsaSigner implements Signer {
  readonly signType: 'RSA' | 'RSA2';
  readonly keyInfo: SignerKeyInfo;
  readonly #digest: 'sha1' | 'sha256';
  readonly #privateKey: KeyObject | undefined;
  readonly #peerPublicKey: KeyObject | undefined;
  readonly #privateLabel: string;
  readonly #peerLabel: string;

  constructor(options: RsaSignerOptions) {
    if (options.signType !== 'RSA' && options.signType !== 'RSA2') {
      throw new KeyConfigError('signType', `unsupported RSA sign type ${String(options.signType)}`);
    }
    this.signType = options.signType;
    this.#digest = options.signType === 'RSA2' ? 'sha256' : 'sha1';
    this.#privateLabel = options.privateKeyLabel ?? 'PRIVATE_KEY';
    this.#peerLabel = options.peerPublicKeyLabel ?? 'PEER_PUBLIC_KEY';
    if (options.privateKey === undefined && options.peerPublicKey === undefined) {
      throw new KeyConfigError(this.#privateLabel, 'neither a private nor a peer public key given');
    }
    this.#privateKey =
      options.privateKey === undefined
        ? undefined
        : loadPrivateKey(options.privateKey, this.#privateLabel);
    this.#peerPublicKey =
      options.peerPublicKey === undefined
        ? undefined
        : loadPublicKey(options.peerPublicKey, this.#peerLabel);
    this.keyInfo = {
      kind: 'RSA',
      privateKeyLabel: this.#privateLabel,
      peerPublicKeyLabel: this.#peerLabel,
      ownPublicKey: this.#privateKey ? createPublicKey(this.#privateKey) : undefined,
      peerPublicKey: this.#peerPublicKey,
    };
  }

  sign(params: Params, charset: Charset = DEFAULT_CHARSET): string {
    if (!this.#privateKey)
      throw new KeyConfigError(this.#privateLabel, 'no private key configured');
    const data = encode(preSignString(params), charset);
    return rsaSign(this.#digest, data, this.#privateKey).toString('base64');
  }

  verify(params: Params, signature: string, charset: Charset = DEFAULT_CHARSET): boolean {
    if (!this.#peerPublicKey) throw new KeyConfigError(this.#peerLabel, 'no public key configured');
    if (typeof signature !== 'string') return false;
    // A form decoder may have turned '+' into ' '; base64 never contains spaces (MAPI.md §4.6).
    const normalized = signature.replace(/ /g, '+').replace(/[\r\n]/g, '');
    if (!BASE64_SIGNATURE.test(normalized)) return false;
    const data = encode(preSignString(params), charset);
    return rsaVerify(this.#digest, data, this.#peerPublicKey, Buffer.from(normalized, 'base64'));
  }

  toJSON(): object {
    return {
      signType: this.signType,
      privateKeyLabel: this.#privateLabel,
      peerPublicKeyLabel: this.#peerLabel,
    };
  }
}

/**
 * An RSA (SHA1withRSA) or RSA2 (SHA256withRSA) signer, PKCS#1 v1.5, base64 output
 * (MAPI.md §4.3). Keys may be PEM or bare base64 DER (PKCS#1 / PKCS#8 private, SPKI / PKCS#1
 * public) or `KeyObject`s; they are parsed once here, not per call.
 */
export function createRsaSigner(options: RsaSignerOptions): Signer {
  return new RsaSigner(options);
}
