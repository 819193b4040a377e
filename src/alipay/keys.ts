import { createPrivateKey, createPublicKey, KeyObject, verify as rsaVerify } from 'node:crypto';
import { KeyConfigError } from './errors';
import { preSignString, type Params } from './presign';
import type { Signer } from './signing';

export { KeyConfigError } from './errors';

/** A key as configured: PEM text, bare base64 DER, DER bytes, or an already parsed KeyObject. */
export type KeyInput = string | Buffer | KeyObject;

/** Public facts a signer exposes for {@link selfTestSigner}; never secret material. */
export type SignerKeyInfo =
  | {
      readonly kind: 'MD5';
      readonly label: string;
      /** True when the key has the portal's shape: 32 ASCII letters/digits (MAPI.md §4.2). */
      readonly standardFormat: boolean;
    }
  | {
      readonly kind: 'RSA';
      readonly privateKeyLabel: string;
      readonly peerPublicKeyLabel: string;
      /** Public half of our private key (derived), when a private key is configured. */
      readonly ownPublicKey: KeyObject | undefined;
      readonly peerPublicKey: KeyObject | undefined;
    };

/** Smallest RSA modulus accepted; MAPI.md §4.3 recommends 2048 bits. */
export const MIN_RSA_BITS = 1024;

const PEM = /-----BEGIN ([A-Z0-9 ]+)-----/;
const BASE64_BODY = /^[A-Za-z0-9+/\s]+={0,2}\s*$/;

type Material = { pem: string } | { der: Buffer };

function material(input: string | Buffer, label: string): Material {
  // Buffers may hold DER bytes, or PEM / base64 text read from a file.
  const isText =
    typeof input === 'string' ||
    input.subarray(0, 64).toString('latin1').includes('-----BEGIN') ||
    BASE64_BODY.test(input.toString('latin1'));
  if (!isText) {
    if (input.length === 0) throw new KeyConfigError(label, 'key is empty');
    return { der: input };
  }
  const str = (typeof input === 'string' ? input : input.toString('utf8')).trim();
  if (str === '') throw new KeyConfigError(label, 'key is empty');
  if (PEM.test(str)) return { pem: str.replace(/\\n/g, '\n') };
  if (!BASE64_BODY.test(str)) {
    throw new KeyConfigError(label, 'key is neither PEM nor bare base64 DER');
  }
  return { der: Buffer.from(str.replace(/\s+/g, ''), 'base64') };
}

function pemKind(m: Material): string | undefined {
  return 'pem' in m ? PEM.exec(m.pem)?.[1] : undefined;
}

function tryParse<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

function checkRsa(key: KeyObject, label: string): KeyObject {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new KeyConfigError(label, `expected an RSA key, got ${String(key.asymmetricKeyType)}`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) {
    throw new KeyConfigError(label, `RSA key of ${bits} bits is below ${MIN_RSA_BITS}`);
  }
  return key;
}

function parsePrivateDer(der: Buffer): KeyObject | undefined {
  return (
    tryParse(() => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })) ??
    tryParse(() => createPrivateKey({ key: der, format: 'der', type: 'pkcs1' }))
  );
}

function parsePublicDer(der: Buffer): KeyObject | undefined {
  return (
    tryParse(() => createPublicKey({ key: der, format: 'der', type: 'spki' })) ??
    tryParse(() => createPublicKey({ key: der, format: 'der', type: 'pkcs1' }))
  );
}

/**
 * Loads an RSA private key (PKCS#1 or PKCS#8; PEM or bare base64 DER). Errors name `label`
 * (e.g. `MERCHANT_PRIVATE_KEY`) and say what was wrong, never what the key contains. A public
 * key given here is recognised and reported as such.
 */
export function loadPrivateKey(input: KeyInput, label: string): KeyObject {
  if (input instanceof KeyObject) {
    if (input.type !== 'private')
      throw new KeyConfigError(label, `expected a private key, got a ${input.type} key`);
    return checkRsa(input, label);
  }
  const m = material(input, label);
  const kind = pemKind(m);
  if (kind !== undefined) {
    if (kind.includes('PUBLIC')) {
      throw new KeyConfigError(label, 'this is a PUBLIC key; a private key is required here');
    }
    if (kind.includes('ENCRYPTED')) {
      throw new KeyConfigError(label, 'encrypted private keys are not supported; decrypt it first');
    }
    const key = tryParse(() =>
      createPrivateKey({ key: (m as { pem: string }).pem, format: 'pem' }),
    );
    if (!key) throw new KeyConfigError(label, `unreadable ${kind} PEM`);
    return checkRsa(key, label);
  }
  const der = (m as { der: Buffer }).der;
  const key = parsePrivateDer(der);
  if (key) return checkRsa(key, label);
  if (parsePublicDer(der)) {
    throw new KeyConfigError(label, 'this is a PUBLIC key; a private key is required here');
  }
  throw new KeyConfigError(label, 'not a PKCS#1 or PKCS#8 RSA private key');
}

/**
 * Loads an RSA public key (SPKI "X.509" or PKCS#1; PEM or bare base64 DER). A PRIVATE key given
 * here is refused rather than silently reduced to its public half: a private key must never sit
 * in a slot meant for a peer's public key.
 */
export function loadPublicKey(input: KeyInput, label: string): KeyObject {
  if (input instanceof KeyObject) {
    if (input.type !== 'public')
      throw new KeyConfigError(label, `expected a public key, got a ${input.type} key`);
    return checkRsa(input, label);
  }
  const m = material(input, label);
  const kind = pemKind(m);
  if (kind !== undefined) {
    if (kind.includes('PRIVATE')) {
      throw new KeyConfigError(label, 'this is a PRIVATE key; only a public key belongs here');
    }
    const key = tryParse(() => createPublicKey({ key: (m as { pem: string }).pem, format: 'pem' }));
    if (!key) throw new KeyConfigError(label, `unreadable ${kind} PEM`);
    return checkRsa(key, label);
  }
  const der = (m as { der: Buffer }).der;
  if (parsePrivateDer(der)) {
    throw new KeyConfigError(label, 'this is a PRIVATE key; only a public key belongs here');
  }
  const key = parsePublicDer(der);
  if (!key) throw new KeyConfigError(label, 'not an SPKI or PKCS#1 RSA public key');
  return checkRsa(key, label);
}

const PROBE: Params = {
  _input_charset: 'UTF-8',
  partner: '2088000000000000',
  service: 'engine.key.selftest',
  text: 'self-test 自检 & = ?',
};

function sameKey(a: KeyObject, b: KeyObject): boolean {
  const da = a.export({ format: 'der', type: 'spki' });
  const db = b.export({ format: 'der', type: 'spki' });
  return da.equals(db);
}

/**
 * Start-up check of a signer built by `createMd5Signer` / `createRsaSigner`: a sign + verify
 * round trip, a tampered value that must be refused, and configuration mistakes that would
 * otherwise only surface as ILLEGAL_SIGN or "bad signature" in production:
 * - MD5: the key must look like a portal key (32 letters/digits);
 * - RSA: our private key must verify against its own public half, and the configured peer
 *   public key must NOT be that public half (the classic mix-up: pasting the merchant's own
 *   public key where Alipay's public key belongs).
 * Throws {@link KeyConfigError} naming the misconfigured key.
 */
export function selfTestSigner(signer: Signer): void {
  const info = signer.keyInfo;
  const tampered: Params = { ...PROBE, text: 'self-test tampered' };
  if (!info || info.kind === 'MD5') {
    const label = info?.label ?? 'MD5_KEY';
    if (info && !info.standardFormat) {
      throw new KeyConfigError(label, 'an Alipay MD5 key is 32 ASCII letters and digits');
    }
    for (const charset of ['UTF-8', 'GBK'] as const) {
      const sig = signer.sign(PROBE, charset);
      if (!signer.verify(PROBE, sig, charset) || signer.verify(tampered, sig, charset)) {
        throw new KeyConfigError(label, `sign/verify round trip failed (${charset})`);
      }
    }
    return;
  }
  const { ownPublicKey, peerPublicKey, privateKeyLabel, peerPublicKeyLabel } = info;
  if (ownPublicKey) {
    const sig = Buffer.from(signer.sign(PROBE), 'base64');
    const digest = signer.signType === 'RSA2' ? 'sha256' : 'sha1';
    const data = Buffer.from(preSignString(PROBE), 'utf8');
    if (!rsaVerify(digest, data, ownPublicKey, sig)) {
      throw new KeyConfigError(
        privateKeyLabel,
        'signature does not verify with its own public key',
      );
    }
  }
  if (ownPublicKey && peerPublicKey && sameKey(ownPublicKey, peerPublicKey)) {
    throw new KeyConfigError(
      peerPublicKeyLabel,
      `is the public half of ${privateKeyLabel} (our own key pair), not the peer's public key`,
    );
  }
  if (peerPublicKey && !ownPublicKey) {
    // Verify-only signer: at least prove verification refuses garbage.
    if (signer.verify(PROBE, Buffer.alloc(256, 1).toString('base64'))) {
      throw new KeyConfigError(peerPublicKeyLabel, 'accepts an invalid signature');
    }
  }
}
