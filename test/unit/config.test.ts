import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConfigError,
  DEFAULT_SANDBOX_API_KEY,
  DEFAULT_SANDBOX_GATEWAY_URL,
  loadConfig,
} from '../../src/config';

describe('config', () => {
  it('defaults to the local dev server and the embedded sandbox', () => {
    const config = loadConfig({});
    assert.equal(config.temporal.connection.address, '127.0.0.1:7233');
    assert.equal(config.temporal.namespace, 'default');
    assert.equal(config.alipay.embeddedSandbox, true);
    assert.equal(config.alipay.gateway.gatewayUrl, DEFAULT_SANDBOX_GATEWAY_URL);
    assert.equal(config.alipay.gateway.signType, 'MD5');
    assert.equal(config.payments.refundWindowMs, 90 * 24 * 3600_000);
    assert.deepEqual(config.http.merchantApiKeys, [DEFAULT_SANDBOX_API_KEY]);
    assert.equal(config.http.defaultApiKey, true);
    assert.equal(config.http.port, 8080);
    assert.equal(config.observability.runtimeMetricsAddress, '127.0.0.1:9464');
  });

  it('derives activity timeouts from the gateway and hook timeouts, and refuses what cannot work', () => {
    const config = loadConfig({});
    assert.deepEqual(config.payments.callTimeouts, { gatewayMs: 41_000, hookMs: 15_000 });
    assert.equal(config.payments.merchantHook, false, 'no hook configured: nothing scheduled');
    assert.equal(config.payments.confirmMarginMs, 30 * 60_000);
    const slow = loadConfig({ ALIPAY_READ_TIMEOUT_MS: '20000', ALIPAY_CONNECT_TIMEOUT_MS: '5000' });
    assert.equal(slow.payments.callTimeouts.gatewayMs, 55_000, 'QUERY + notify_verify fit');
    assert.throws(
      () => loadConfig({ ALIPAY_READ_TIMEOUT_MS: '300000' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.some((p) =>
          /ALIPAY_CONNECT_TIMEOUT_MS \+ ALIPAY_READ_TIMEOUT_MS = 303000 ms/.test(p),
        ),
    );
    const hook = {
      MERCHANT_HOOK_URL: 'http://127.0.0.1:9/hook',
      MERCHANT_HOOK_SECRET: 's'.repeat(16),
    };
    assert.deepEqual(loadConfig(hook).payments.merchantHook, {}, 'delivered, never reversing');
    assert.deepEqual(
      loadConfig({ ...hook, MERCHANT_HOOK_REVERSE_ON_FAILURE: 'true' }).payments.merchantHook,
      { reverseOnFailure: { deadlineMs: 900_000 } },
    );
    assert.throws(
      () => loadConfig({ MERCHANT_HOOK_REVERSE_ON_FAILURE: 'true' }),
      /MERCHANT_HOOK_REVERSE_ON_FAILURE needs MERCHANT_HOOK_URL/,
    );
  });

  it('bounds the worker cache only when WORKER_MAX_CACHED_WORKFLOWS is set, and checks it', () => {
    assert.equal(loadConfig({}).temporal.maxCachedWorkflows, undefined);
    assert.equal(
      loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '500' }).temporal.maxCachedWorkflows,
      500,
    );
    for (const bad of ['0', '-1', '1.5', 'many']) {
      assert.throws(
        () => loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: bad }),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.problems.some((p) => p.startsWith('WORKER_MAX_CACHED_WORKFLOWS=')),
      );
    }
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
        err.problems.some((p) => p.startsWith('MERCHANT_HOOK_SECRET')) &&
        err.problems.some((p) =>
          p.startsWith('MERCHANT_API_KEYS or MERCHANT_API_KEYS_FILE is required'),
        ),
    );
  });

  it('takes merchant API keys from the environment and refuses weak or sandbox keys for a real gateway', () => {
    const real = {
      ALIPAY_GATEWAY_URL: 'backup',
      ALIPAY_PARTNER: '2088101122136241',
      ALIPAY_MD5_KEY: 'k'.repeat(32),
    };
    const config = loadConfig({
      ...real,
      MERCHANT_API_KEYS: ' key-one-0123456789 , key-two-0123456789 ',
      TEMPORAL_METRICS_ADDRESS: 'off',
    });
    assert.deepEqual(config.http.merchantApiKeys, ['key-one-0123456789', 'key-two-0123456789']);
    assert.equal(config.http.defaultApiKey, false);
    assert.equal(config.observability.runtimeMetricsAddress, undefined);
    assert.throws(() => loadConfig({ ...real, MERCHANT_API_KEYS: 'short' }), /16 characters/);
    assert.throws(
      () => loadConfig({ ...real, MERCHANT_API_KEYS: DEFAULT_SANDBOX_API_KEY }),
      /sandbox default key/,
    );
    assert.throws(
      () => loadConfig({ LOG_LEVEL: 'loud', HTTP_PORT: '99999' }),
      /LOG_LEVEL.*\n.*HTTP_PORT|HTTP_PORT.*\n.*LOG_LEVEL/s,
    );
  });

  it('resolves named gateways and requires RSA keys for RSA2', () => {
    const config = loadConfig({
      ALIPAY_GATEWAY_URL: 'backup',
      ALIPAY_PARTNER: '2088101122136241',
      ALIPAY_MD5_KEY: 'k'.repeat(32),
      MERCHANT_API_KEYS: 'merchant-key-0123456789',
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

describe('config: reconciliation', () => {
  const real = {
    ALIPAY_GATEWAY_URL: 'production',
    ALIPAY_PARTNER: '2088000000000001',
    ALIPAY_MD5_KEY: 'k'.repeat(32),
    MERCHANT_API_KEYS: 'a-long-merchant-key-1',
  };

  it("defaults to the embedded sandbox's SFTP account, daily at 10:00 GMT+8", () => {
    const r = loadConfig({}).reconciliation!;
    assert.deepEqual(
      [r.sftp.host, r.sftp.port, r.sftp.username, r.sftp.directory],
      ['127.0.0.1', 8722, 'alipay-sandbox', '/download'],
    );
    assert.equal(r.sftp.password, 'sandbox-sftp-password');
    assert.deepEqual([r.schedule, r.scheduleHourGmt8, r.graceMs], [true, 10, 15 * 60_000]);
    assert.equal(loadConfig({ SANDBOX_SFTP_PORT: '9922' }).reconciliation!.sftp.port, 9922);
  });

  it('is off for a real gateway without RECON_SFTP_HOST, and then needs the account and a pinned host key', () => {
    assert.equal(loadConfig(real).reconciliation, undefined);
    assert.throws(
      () =>
        loadConfig({
          ...real,
          RECON_SFTP_HOST: 'sftp.alipay.example',
          RECON_SCHEDULE_HOUR_GMT8: '24',
        }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.some((p) => p.startsWith('RECON_SFTP_USER')) &&
        err.problems.some((p) => p.startsWith('RECON_SFTP_PASSWORD')) &&
        err.problems.some((p) => p.startsWith('RECON_SFTP_HOST_KEY_SHA256')) &&
        err.problems.some((p) => p.startsWith('RECON_SCHEDULE_HOUR_GMT8')),
    );
    const ok = loadConfig({
      ...real,
      RECON_SFTP_HOST: 'sftp.alipay.example',
      RECON_SFTP_USER: 'p2088',
      RECON_SFTP_PASSWORD: 'secret',
      RECON_SFTP_HOST_KEY_SHA256: `SHA256:${'A'.repeat(43)}`,
      RECON_FILE_CHARSET: 'gbk',
    }).reconciliation!;
    assert.deepEqual([ok.sftp.port, ok.charset, ok.sftp.hostKeySha256?.length], [22, 'GBK', 50]);
  });
});
