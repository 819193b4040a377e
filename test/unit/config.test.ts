import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_SANDBOX_GATEWAY_URL, loadConfig } from '../../src/config';

describe('config', () => {
  it('defaults to the local dev server and the embedded sandbox', () => {
    const config = loadConfig({});
    assert.equal(config.temporal.connection.address, '127.0.0.1:7233');
    assert.equal(config.temporal.namespace, 'default');
    assert.equal(config.alipay.embeddedSandbox, true);
    assert.equal(config.alipay.gateway.gatewayUrl, DEFAULT_SANDBOX_GATEWAY_URL);
    assert.equal(config.alipay.gateway.signType, 'MD5');
    assert.equal(config.payments.refundWindowMs, 90 * 24 * 3600_000);
  });

  it('follows envconfig for Temporal', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'temporal.example:7233',
      TEMPORAL_NAMESPACE: 'payments',
    });
    assert.equal(config.temporal.connection.address, 'temporal.example:7233');
    assert.equal(config.temporal.namespace, 'payments');
  });

  it('never falls back to sandbox credentials for a real gateway, and reports every problem at once', () => {
    assert.throws(
      () =>
        loadConfig({
          ALIPAY_GATEWAY_URL: 'production',
          REFUND_WINDOW_DAYS: 'ninety',
          MERCHANT_HOOK_URL: 'https://m.example/hook',
        }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.some((p) => p.startsWith('ALIPAY_PARTNER')) &&
        err.problems.some((p) => p.startsWith('ALIPAY_MD5_KEY')) &&
        err.problems.some((p) => p.startsWith('REFUND_WINDOW_DAYS')) &&
        err.problems.some((p) => p.startsWith('MERCHANT_HOOK_SECRET')),
    );
  });

  it('resolves named gateways and requires RSA keys for RSA2', () => {
    const config = loadConfig({
      ALIPAY_GATEWAY_URL: 'backup',
      ALIPAY_PARTNER: '2088101122136241',
      ALIPAY_MD5_KEY: 'k'.repeat(32),
    });
    assert.equal(config.alipay.gateway.gatewayUrl, 'https://intlmapi.alipay.com/gateway.do');
    assert.equal(config.alipay.embeddedSandbox, false);
    assert.throws(
      () =>
        loadConfig({
          ALIPAY_GATEWAY_URL: 'backup',
          ALIPAY_PARTNER: '2088101122136241',
          ALIPAY_SIGN_TYPE: 'RSA2',
        }),
      /ALIPAY_PRIVATE_KEY/,
    );
  });
});
