import { generateKeyPairSync, type KeyObject } from 'node:crypto';

/** A freshly generated RSA key pair in every encoding the key loader must accept. */
export interface TestKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly pkcs1PrivatePem: string;
  readonly pkcs8PrivatePem: string;
  readonly spkiPublicPem: string;
  readonly pkcs1PublicPem: string;
  /** Bare base64 DER (what the Alipay portal shows): PKCS#8 private, SPKI public. */
  readonly pkcs8PrivateBase64: string;
  readonly pkcs1PrivateBase64: string;
  readonly spkiPublicBase64: string;
  readonly pkcs1PublicBase64: string;
}

const cache = new Map<string, TestKeyPair>();

/** Generates (once per name and process) a 2048-bit RSA key pair. */
export function testKeyPair(name: string, modulusLength = 2048): TestKeyPair {
  const cached = cache.get(`${name}/${modulusLength}`);
  if (cached) return cached;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  const der = (k: KeyObject, type: 'pkcs1' | 'pkcs8' | 'spki'): string =>
    (k.export({ format: 'der', type } as never) as Buffer).toString('base64');
  const pair: TestKeyPair = {
    privateKey,
    publicKey,
    pkcs1PrivatePem: privateKey.export({ format: 'pem', type: 'pkcs1' }) as string,
    pkcs8PrivatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    spkiPublicPem: publicKey.export({ format: 'pem', type: 'spki' }) as string,
    pkcs1PublicPem: publicKey.export({ format: 'pem', type: 'pkcs1' }) as string,
    pkcs8PrivateBase64: der(privateKey, 'pkcs8'),
    pkcs1PrivateBase64: der(privateKey, 'pkcs1'),
    spkiPublicBase64: der(publicKey, 'spki'),
    pkcs1PublicBase64: der(publicKey, 'pkcs1'),
  };
  cache.set(`${name}/${modulusLength}`, pair);
  return pair;
}
