import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { KeyConfigError } from '../../../src/alipay/errors';
import { loadPrivateKey, loadPublicKey, selfTestSigner } from '../../../src/alipay/keys';
import { createMd5Signer, createRsaSigner } from '../../../src/alipay/signing';
import { MADE_UP_KEY } from './fixtures';
import { testKeyPair } from './helpers';

const merchant = testKeyPair('merchant');
const alipay = testKeyPair('alipay');

/** Asserts a KeyConfigError naming `label` whose message leaks no key material. */
function keyError(fn: () => unknown, label: string, secrets: string[] = []): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof KeyConfigError, String(err));
    assert.equal(err.keyLabel, label);
    assert.ok(err.message.startsWith(`${label}:`), err.message);
    for (const s of secrets) {
      assert.ok(!err.message.includes(s.slice(30, 60)), 'message leaks key material');
    }
    return true;
  });
}

describe('key loading', () => {
  it('accepts PEM (PKCS#1 / PKCS#8 / SPKI / PKCS#1 public), bare base64 and escaped newlines', () => {
    for (const k of [
      merchant.pkcs1PrivatePem,
      merchant.pkcs8PrivatePem,
      merchant.pkcs8PrivateBase64,
      merchant.pkcs1PrivateBase64,
      merchant.pkcs8PrivatePem.replace(/\n/g, '\\n'),
      Buffer.from(merchant.pkcs8PrivatePem),
    ]) {
      assert.equal(loadPrivateKey(k, 'K').type, 'private');
    }
    for (const k of [
      merchant.spkiPublicPem,
      merchant.pkcs1PublicPem,
      merchant.spkiPublicBase64,
      merchant.pkcs1PublicBase64,
      `  ${merchant.spkiPublicBase64.replace(/(.{64})/g, '$1\n')}\n`,
    ]) {
      assert.equal(loadPublicKey(k, 'K').type, 'public');
    }
  });

  it('a public key where a private key belongs (and vice versa) is named as such', () => {
    keyError(
      () => loadPrivateKey(merchant.spkiPublicPem, 'MERCHANT_PRIVATE_KEY'),
      'MERCHANT_PRIVATE_KEY',
    );
    keyError(
      () => loadPrivateKey(merchant.spkiPublicBase64, 'MERCHANT_PRIVATE_KEY'),
      'MERCHANT_PRIVATE_KEY',
    );
    keyError(
      () => loadPublicKey(alipay.pkcs8PrivatePem, 'ALIPAY_PUBLIC_KEY'),
      'ALIPAY_PUBLIC_KEY',
      [alipay.pkcs8PrivatePem],
    );
    keyError(
      () => loadPublicKey(alipay.pkcs8PrivateBase64, 'ALIPAY_PUBLIC_KEY'),
      'ALIPAY_PUBLIC_KEY',
      [alipay.pkcs8PrivateBase64],
    );
    keyError(() => loadPublicKey(alipay.privateKey, 'ALIPAY_PUBLIC_KEY'), 'ALIPAY_PUBLIC_KEY');
  });

  it('garbage, empty, truncated, non-RSA and too-small keys', () => {
    keyError(() => loadPrivateKey('', 'K'), 'K');
    keyError(() => loadPrivateKey('not a key!', 'K'), 'K');
    keyError(() => loadPrivateKey(merchant.pkcs8PrivateBase64.slice(0, 200), 'K'), 'K', [
      merchant.pkcs8PrivateBase64,
    ]);
    keyError(
      () => loadPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', 'K'),
      'K',
    );
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    keyError(() => loadPrivateKey(ec.privateKey, 'K'), 'K');
    keyError(
      () => loadPublicKey(ec.publicKey.export({ format: 'pem', type: 'spki' }) as string, 'K'),
      'K',
    );
    const small = generateKeyPairSync('rsa', { modulusLength: 512 });
    keyError(() => loadPrivateKey(small.privateKey, 'K'), 'K');
  });
});

describe('selfTestSigner', () => {
  it('passes for a correct MD5 key and a correct RSA2 configuration', () => {
    selfTestSigner(createMd5Signer(MADE_UP_KEY, 'ALIPAY_MD5_KEY'));
    selfTestSigner(
      createRsaSigner({
        signType: 'RSA2',
        privateKey: merchant.pkcs8PrivatePem,
        peerPublicKey: alipay.spkiPublicPem,
      }),
    );
    selfTestSigner(
      createRsaSigner({
        signType: 'RSA',
        privateKey: merchant.pkcs1PrivatePem,
        peerPublicKey: alipay.pkcs1PublicPem,
      }),
    );
  });

  it("detects the merchant's own public key configured as Alipay's public key", () => {
    const signer = createRsaSigner({
      signType: 'RSA2',
      privateKey: merchant.pkcs8PrivateBase64,
      peerPublicKey: merchant.spkiPublicBase64,
      privateKeyLabel: 'MERCHANT_PRIVATE_KEY',
      peerPublicKeyLabel: 'ALIPAY_PUBLIC_KEY',
    });
    keyError(() => selfTestSigner(signer), 'ALIPAY_PUBLIC_KEY');
  });

  it('refuses an MD5 key that does not look like a portal key', () => {
    keyError(
      () => selfTestSigner(createMd5Signer('short-key', 'ALIPAY_MD5_KEY')),
      'ALIPAY_MD5_KEY',
      ['short-key'.repeat(4)],
    );
  });

  it('checks a verify-only RSA signer refuses garbage', () => {
    selfTestSigner(createRsaSigner({ signType: 'RSA2', peerPublicKey: alipay.publicKey }));
  });
});
