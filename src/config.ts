import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import { GATEWAY_URLS, type Charset, type GatewayConfig, type SignType } from './alipay';
import type { ReconciliationSftpConfig } from './alipay/reconciliation-sftp';
import type { MerchantHookConfig } from './activities/deps';
import { EngineError } from './errors';
import {
  DEFAULT_SANDBOX_MD5_KEY,
  DEFAULT_SANDBOX_PARTNER,
  DEFAULT_SANDBOX_PORT,
  DEFAULT_SANDBOX_SFTP_DIRECTORY,
  DEFAULT_SANDBOX_SFTP_PASSWORD,
  DEFAULT_SANDBOX_SFTP_PORT,
  DEFAULT_SANDBOX_SFTP_USERNAME,
} from './sandbox/defaults';
import { keysFromEnv, parseKeysFile, type ApiKey } from './server/api-keys';

/**
 * The engine's configuration: read from the environment once, at start-up, validated as a whole
 * (every problem reported at once), then passed down. Nothing else reads `process.env`.
 *
 * Temporal follows the `@temporalio/envconfig` conventions (`TEMPORAL_ADDRESS`,
 * `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS_*`, `TEMPORAL_PROFILE`, a TOML file);
 * with nothing set it points at the local dev server. Alipay defaults to the embedded sandbox
 * simulator; setting `ALIPAY_GATEWAY_URL` switches to a real gateway and makes the partner ID
 * and keys mandatory (never a silent fallback to sandbox credentials).
 */
export interface EngineConfig {
  temporal: {
    connection: ClientConnectConfig['connectionOptions'];
    namespace: string;
    taskQueue: string;
    /** Workflows the worker keeps in its sticky cache; undefined = the SDK's memory-based default. */
    maxCachedWorkflows?: number;
  };
  alipay: {
    gateway: GatewayConfig;
    /** True when the gateway is the embedded sandbox (defaults in use). */
    embeddedSandbox: boolean;
    /** Call `notify_verify` while confirming payments. */
    verifyNotifyIds: boolean;
  };
  merchantHook?: MerchantHookConfig;
  payments: PaymentSettings;
  /**
   * Daily reconciliation against Alipay's files (undefined: off, i.e. a real gateway without
   * `RECON_SFTP_HOST`).
   */
  reconciliation?: ReconciliationConfig;
  /** The HTTP service: Alipay's notification receiver and the merchant API. */
  http: {
    host: string;
    port: number;
    /** The `MERCHANT_API_KEYS` keys as given (all, read-write); printed by `npm start`. */
    merchantApiKeys: string[];
    /** Every key the merchant API accepts: the env keys and the keys file's, as digests. */
    apiKeys: ApiKey[];
    /** `MERCHANT_API_KEYS_FILE`, when set. */
    apiKeysFile?: string;
    /** The operator listener (`/metrics`, `/readyz`): loopback by default. */
    adminHost: string;
    adminPort: number;
    /** Merchant API requests per minute and key (a key of the keys file may set its own). */
    rateLimitPerMinute: number;
    /** Largest QR picture drawn, in pixels. */
    qrMaxSize: number;
    /** Worker threads that draw QR pictures (off the event loop). */
    qrRenderThreads: number;
    /** How long a refund request waits for Alipay before it answers 202 with the refund's URL. */
    refundWaitMs: number;
    /** True when the keys are the embedded sandbox default (never with a real gateway). */
    defaultApiKey: boolean;
    /** Largest notification body accepted (Alipay's are a few hundred bytes). */
    notifyMaxBytes: number;
    /** Largest merchant API body accepted. */
    apiMaxBytes: number;
  };
  observability: {
    /** `host:port` of the Temporal runtime's Prometheus exporter; undefined when turned off. */
    runtimeMetricsAddress?: string;
    /** `host:port` where a standalone worker (`npm run worker`) serves `/metrics`; off by default. */
    workerMetricsAddress?: string;
    logLevel: LogLevel;
  };
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * What every new payment runs with (recorded in its workflow input by whoever starts it, so a
 * payment keeps its rules for its whole life).
 */
export interface PaymentSettings {
  /** How long a payment stays open for refunds after it was paid. */
  refundWindowMs: number;
  /** Confirmation asks QUERY through Alipay's errors until this long before the GMT+8 day ends. */
  confirmMarginMs: number;
  /** `false` without a hook; else whether a failing `payment.confirmed` hook reverses it. */
  merchantHook: false | { reverseOnFailure?: { deadlineMs: number } };
  /** Activity timeouts derived from the gateway and hook timeouts. */
  callTimeouts: { gatewayMs: number; hookMs: number };
}

/** Slack of an activity attempt over the HTTP timeouts it covers. */
const ACTIVITY_SLACK_MS = 5000;
/**
 * A code change (CREATE, MODIFY, MODIFYSTATUS) is one gateway call in a 30 s activity: connect +
 * read timeouts beyond this cannot work.
 */
const MAX_GATEWAY_CALL_MS = 25_000;

/** Where Alipay's daily files are, and when and how patiently the engine reconciles them. */
export interface ReconciliationConfig {
  sftp: ReconciliationSftpConfig;
  charset: Charset;
  /** Create the daily Schedule at worker start (`RECON_SCHEDULE`). */
  schedule: boolean;
  /** GMT+8 hour (0-23) at which the previous day is reconciled. */
  scheduleHourGmt8: number;
  /** Engine movements younger than this are not expected in the file yet. */
  graceMs: number;
  /** How long a day's run waits for missing files before FILE_MISSING. */
  fileDeadlineMs: number;
  /** Pause between looks while a file is missing. */
  retryEveryMs: number;
}

export class ConfigError extends EngineError {
  readonly code = 'INVALID_CONFIG';
  readonly retryable = false;
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

export const DEFAULT_TASK_QUEUE = 'alipay-qr-engine';
export const DEFAULT_SANDBOX_GATEWAY_URL = `http://127.0.0.1:${DEFAULT_SANDBOX_PORT}/gateway.do`;
export const DEFAULT_HTTP_PORT = 8080;
export const DEFAULT_NOTIFY_URL = `http://127.0.0.1:${DEFAULT_HTTP_PORT}/alipay/notify`;
/** The merchant API key of the embedded sandbox set-up; refused with a real gateway. */
export const DEFAULT_SANDBOX_API_KEY = 'sandbox-merchant-api-key';
export const DEFAULT_RUNTIME_METRICS_ADDRESS = '127.0.0.1:9464';
export const DEFAULT_ADMIN_PORT = 8081;
const MIN_API_KEY_LENGTH = 16;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Environment variables the engine reads, for `--help` texts and the README. */
export const ENGINE_ENV_HELP: ReadonlyArray<readonly [string, string]> = [
  ['ENGINE_TASK_QUEUE', `Temporal task queue (default ${DEFAULT_TASK_QUEUE})`],
  [
    'ALIPAY_GATEWAY_URL',
    `gateway URL or production|backup|sandbox (default: embedded sandbox ${DEFAULT_SANDBOX_GATEWAY_URL})`,
  ],
  ['SANDBOX_PORT', `port of the embedded sandbox gateway (default ${DEFAULT_SANDBOX_PORT})`],
  ['ALIPAY_PARTNER', 'partner ID, 16 digits (required with ALIPAY_GATEWAY_URL)'],
  ['ALIPAY_SIGN_TYPE', 'MD5 | RSA | RSA2 (default MD5 for the sandbox)'],
  ['ALIPAY_MD5_KEY', 'MD5 key (sign type MD5)'],
  [
    'ALIPAY_PRIVATE_KEY / ALIPAY_PRIVATE_KEY_FILE',
    'merchant private key, PEM or base64 (RSA/RSA2)',
  ],
  ['ALIPAY_PUBLIC_KEY / ALIPAY_PUBLIC_KEY_FILE', "Alipay's public key, PEM or base64 (RSA/RSA2)"],
  [
    'ALIPAY_NOTIFY_URL',
    `public notify_url given to CREATE (default ${DEFAULT_NOTIFY_URL}, with HTTP_PORT)`,
  ],
  [
    'ALIPAY_VERIFY_NOTIFY_ID',
    'call notify_verify when confirming a payment: true|false (default true)',
  ],
  ['ALIPAY_CONNECT_TIMEOUT_MS / ALIPAY_READ_TIMEOUT_MS', 'gateway timeouts (default 3000 / 15000)'],
  ['MERCHANT_HOOK_URL / MERCHANT_HOOK_SECRET', 'optional merchant webhook and its HMAC key'],
  ['MERCHANT_HOOK_TIMEOUT_MS', 'merchant webhook timeout (default 10000)'],
  ['REFUND_WINDOW_DAYS', 'refund period after payment, days (default 90)'],
  [
    'CONFIRM_MARGIN_MINUTES',
    "confirmation retries QUERY until this long before the payment's GMT+8 day ends (default 30)",
  ],
  [
    'MERCHANT_HOOK_REVERSE_ON_FAILURE / MERCHANT_HOOK_REVERSE_DEADLINE_SECONDS',
    'reverse a new payment whose payment.confirmed hook fails that long (default false / 900)',
  ],
  ['HTTP_HOST / HTTP_PORT', `HTTP service address (default 127.0.0.1 / ${DEFAULT_HTTP_PORT})`],
  [
    'MERCHANT_API_KEYS',
    `comma-separated bearer keys of the merchant API, ${MIN_API_KEY_LENGTH}+ characters each (default with the sandbox: ${DEFAULT_SANDBOX_API_KEY}; required with ALIPAY_GATEWAY_URL)`,
  ],
  [
    'MERCHANT_API_KEYS_FILE',
    'JSON file of scoped merchant API keys (SHA-256 digests; see README "Merchant API keys")',
  ],
  [
    'ADMIN_HOST / ADMIN_PORT',
    `operator listener for /metrics and /readyz (default 127.0.0.1 / ${DEFAULT_ADMIN_PORT})`,
  ],
  ['API_RATE_LIMIT_PER_MINUTE', 'merchant API requests per minute and key (default 600)'],
  ['QR_MAX_SIZE', 'largest QR picture drawn, pixels (default 2048)'],
  ['QR_RENDER_THREADS', 'worker threads drawing QR pictures (default: cores - 1, 1 to 4)'],
  ['REFUND_WAIT_MS', 'how long a refund request waits before answering 202 (default 10000)'],
  ['NOTIFY_MAX_BYTES', 'largest notification body accepted (default 16384)'],
  [
    'TEMPORAL_METRICS_ADDRESS',
    `host:port of the Temporal runtime's Prometheus exporter, or off (default ${DEFAULT_RUNTIME_METRICS_ADDRESS})`,
  ],
  ['WORKER_METRICS_ADDRESS', 'host:port where `npm run worker` serves /metrics (default: off)'],
  [
    'WORKER_MAX_CACHED_WORKFLOWS',
    "workflows a worker keeps cached (bounds its memory; default: the Temporal SDK's, from the heap size)",
  ],
  ['LOG_LEVEL', 'debug | info | warn | error (default info)'],
  [
    'RECON_SFTP_HOST / RECON_SFTP_PORT',
    `Alipay's SFTP server with the daily files (default: the embedded sandbox's, 127.0.0.1:${DEFAULT_SANDBOX_SFTP_PORT}; unset with ALIPAY_GATEWAY_URL: reconciliation off; port default 22)`,
  ],
  ['RECON_SFTP_USER', `SFTP user (default with the sandbox: ${DEFAULT_SANDBOX_SFTP_USERNAME})`],
  [
    'RECON_SFTP_PASSWORD / RECON_SFTP_PRIVATE_KEY(_FILE) / RECON_SFTP_PASSPHRASE',
    'SFTP password, or private key (PEM/OpenSSH) and its passphrase',
  ],
  ['RECON_SFTP_DIR', `remote directory of the files (default ${DEFAULT_SANDBOX_SFTP_DIRECTORY})`],
  [
    'RECON_SFTP_HOST_KEY_SHA256',
    "the server's host-key fingerprint, SHA256:… as ssh-keygen -l prints it (required with ALIPAY_GATEWAY_URL)",
  ],
  ['RECON_FILE_CHARSET', 'UTF-8 | GBK (default UTF-8)'],
  ['RECON_SCHEDULE', 'true|false: the worker creates the daily Schedule (default true)'],
  ['RECON_SCHEDULE_HOUR_GMT8', 'GMT+8 hour at which the previous day is reconciled (default 10)'],
  [
    'RECON_GRACE_MINUTES',
    'engine movements younger than this are not expected in the file yet (default 15)',
  ],
  ['RECON_FILE_DEADLINE_HOURS', 'how long a run waits for missing files (default 24)'],
  ['RECON_RETRY_MINUTES', 'pause between looks while a file is missing (default 30)'],
];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): EngineConfig {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    problems.push(`${name}=${JSON.stringify(raw)}: expected true or false`);
    return fallback;
  };
  const keyFrom = (name: string): string | undefined => {
    const inline = get(name);
    const file = get(`${name}_FILE`);
    if (inline && file) problems.push(`set ${name} or ${name}_FILE, not both`);
    if (!file) return inline;
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      problems.push(`${name}_FILE=${file}: ${(err as Error).message}`);
      return undefined;
    }
  };

  // Temporal
  let connect: ClientConnectConfig | undefined;
  try {
    connect = loadClientConnectConfig({ overrideEnvVars: env as Record<string, string> });
  } catch (err) {
    problems.push(
      `Temporal connection (TEMPORAL_*): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const taskQueue = get('ENGINE_TASK_QUEUE') ?? DEFAULT_TASK_QUEUE;
  if (!/^[\w.-]{1,200}$/.test(taskQueue))
    problems.push(`ENGINE_TASK_QUEUE ${JSON.stringify(taskQueue)} is not a valid task queue name`);

  const httpPort = int('HTTP_PORT', DEFAULT_HTTP_PORT, 0, 65535);
  const maxCachedWorkflows =
    get('WORKER_MAX_CACHED_WORKFLOWS') === undefined
      ? undefined
      : int('WORKER_MAX_CACHED_WORKFLOWS', 0, 1, 1_000_000);

  // Alipay
  const urlSetting = get('ALIPAY_GATEWAY_URL');
  const embeddedSandbox = urlSetting === undefined;
  const gatewayUrl = embeddedSandbox
    ? `http://127.0.0.1:${int('SANDBOX_PORT', DEFAULT_SANDBOX_PORT, 1, 65535)}/gateway.do`
    : (GATEWAY_URLS[urlSetting as keyof typeof GATEWAY_URLS] ?? urlSetting);
  const partner = get('ALIPAY_PARTNER') ?? (embeddedSandbox ? DEFAULT_SANDBOX_PARTNER : undefined);
  if (!partner) problems.push('ALIPAY_PARTNER is required when ALIPAY_GATEWAY_URL is set');
  const signType = (get('ALIPAY_SIGN_TYPE') ?? 'MD5') as SignType;
  if (!['MD5', 'RSA', 'RSA2'].includes(signType))
    problems.push(`ALIPAY_SIGN_TYPE=${signType}: expected MD5, RSA or RSA2`);
  const md5Key =
    get('ALIPAY_MD5_KEY') ??
    (embeddedSandbox && signType === 'MD5' ? DEFAULT_SANDBOX_MD5_KEY : undefined);
  const privateKey = keyFrom('ALIPAY_PRIVATE_KEY');
  const alipayPublicKey = keyFrom('ALIPAY_PUBLIC_KEY');
  if (signType === 'MD5' && !md5Key) problems.push('ALIPAY_MD5_KEY is required for sign type MD5');
  if (signType !== 'MD5' && (!privateKey || !alipayPublicKey)) {
    problems.push(
      `sign type ${signType} needs ALIPAY_PRIVATE_KEY(_FILE) and ALIPAY_PUBLIC_KEY(_FILE)`,
    );
  }
  const gateway: GatewayConfig = {
    gatewayUrl,
    partner: partner ?? '',
    signType,
    ...(signType === 'MD5' ? { md5Key } : { privateKey, alipayPublicKey }),
    // Default: this engine's own receiver on loopback (right for the embedded sandbox only).
    notifyUrl: get('ALIPAY_NOTIFY_URL') ?? `http://127.0.0.1:${httpPort}/alipay/notify`,
    connectTimeoutMs: int('ALIPAY_CONNECT_TIMEOUT_MS', 3000, 100, 60_000),
    readTimeoutMs: int('ALIPAY_READ_TIMEOUT_MS', 15_000, 100, 300_000),
    keyLabels: {
      md5Key: 'ALIPAY_MD5_KEY',
      privateKey: 'ALIPAY_PRIVATE_KEY',
      alipayPublicKey: 'ALIPAY_PUBLIC_KEY',
    },
  };

  // Merchant hook
  const hookUrl = get('MERCHANT_HOOK_URL');
  const hookSecret = get('MERCHANT_HOOK_SECRET');
  if (hookUrl && !hookSecret)
    problems.push('MERCHANT_HOOK_SECRET is required with MERCHANT_HOOK_URL');
  if (hookUrl && !/^https?:\/\//.test(hookUrl))
    problems.push(`MERCHANT_HOOK_URL=${hookUrl}: expected an http(s) URL`);
  const merchantHook =
    hookUrl && hookSecret
      ? {
          url: hookUrl,
          secret: hookSecret,
          timeoutMs: int('MERCHANT_HOOK_TIMEOUT_MS', 10_000, 100, 120_000),
        }
      : undefined;

  const refundWindowMs = int('REFUND_WINDOW_DAYS', 90, 1, 3650) * DAY_MS;
  const confirmMarginMs = int('CONFIRM_MARGIN_MINUTES', 30, 0, 12 * 60) * 60_000;
  const reverseOnHookFailure = bool('MERCHANT_HOOK_REVERSE_ON_FAILURE', false);
  const hookDeadlineMs = int('MERCHANT_HOOK_REVERSE_DEADLINE_SECONDS', 900, 60, 6 * 3600) * 1000;
  if (reverseOnHookFailure && !merchantHook)
    problems.push('MERCHANT_HOOK_REVERSE_ON_FAILURE needs MERCHANT_HOOK_URL');
  const callMs = (gateway.connectTimeoutMs ?? 3000) + (gateway.readTimeoutMs ?? 15_000);
  if (callMs > MAX_GATEWAY_CALL_MS)
    problems.push(
      `ALIPAY_CONNECT_TIMEOUT_MS + ALIPAY_READ_TIMEOUT_MS = ${callMs} ms: at most ${MAX_GATEWAY_CALL_MS} ms (a code change is one gateway call in a 30 s activity)`,
    );
  if (merchantHook && reverseOnHookFailure && hookDeadlineMs < merchantHook.timeoutMs * 2)
    problems.push(
      'MERCHANT_HOOK_REVERSE_DEADLINE_SECONDS must leave room for at least two MERCHANT_HOOK_TIMEOUT_MS attempts',
    );
  const payments: PaymentSettings = {
    refundWindowMs,
    confirmMarginMs,
    merchantHook: merchantHook
      ? reverseOnHookFailure
        ? { reverseOnFailure: { deadlineMs: hookDeadlineMs } }
        : {}
      : false,
    callTimeouts: {
      // QUERY and notify_verify run in one attempt: two calls.
      gatewayMs: 2 * callMs + ACTIVITY_SLACK_MS,
      hookMs: (merchantHook?.timeoutMs ?? 10_000) + ACTIVITY_SLACK_MS,
    },
  };
  const verifyNotifyIds = bool('ALIPAY_VERIFY_NOTIFY_ID', true);

  // HTTP service
  const apiKeysSetting = get('MERCHANT_API_KEYS');
  const merchantApiKeys = (apiKeysSetting ?? (embeddedSandbox ? DEFAULT_SANDBOX_API_KEY : ''))
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key !== '');
  const apiKeysFile = get('MERCHANT_API_KEYS_FILE');
  const apiKeys = keysFromEnv(merchantApiKeys);
  if (apiKeysFile !== undefined) {
    try {
      const parsed = parseKeysFile(readFileSync(apiKeysFile, 'utf8'), 'MERCHANT_API_KEYS_FILE');
      problems.push(...parsed.problems);
      apiKeys.push(...parsed.keys);
    } catch (err) {
      problems.push(`MERCHANT_API_KEYS_FILE=${apiKeysFile}: ${(err as Error).message}`);
    }
  }
  if (merchantApiKeys.length === 0 && apiKeysFile === undefined)
    problems.push(
      'MERCHANT_API_KEYS or MERCHANT_API_KEYS_FILE is required when ALIPAY_GATEWAY_URL is set',
    );
  if (merchantApiKeys.some((key) => key.length < MIN_API_KEY_LENGTH))
    problems.push(`MERCHANT_API_KEYS: every key needs at least ${MIN_API_KEY_LENGTH} characters`);
  if (!embeddedSandbox && merchantApiKeys.includes(DEFAULT_SANDBOX_API_KEY))
    problems.push('MERCHANT_API_KEYS: the sandbox default key is refused with a real gateway');
  const metricsSetting = get('TEMPORAL_METRICS_ADDRESS') ?? DEFAULT_RUNTIME_METRICS_ADDRESS;
  if (metricsSetting !== 'off' && !/^[\w.-]+:\d{1,5}$/.test(metricsSetting))
    problems.push(`TEMPORAL_METRICS_ADDRESS=${metricsSetting}: expected host:port or off`);
  const workerMetricsAddress = get('WORKER_METRICS_ADDRESS');
  if (workerMetricsAddress !== undefined && !/^[\w.-]+:\d{1,5}$/.test(workerMetricsAddress))
    problems.push(`WORKER_METRICS_ADDRESS=${workerMetricsAddress}: expected host:port`);
  const logLevel = (get('LOG_LEVEL') ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel))
    problems.push(`LOG_LEVEL=${logLevel}: expected debug, info, warn or error`);
  const http = {
    host: get('HTTP_HOST') ?? '127.0.0.1',
    port: httpPort,
    merchantApiKeys,
    defaultApiKey: apiKeysSetting === undefined && embeddedSandbox,
    notifyMaxBytes: int('NOTIFY_MAX_BYTES', 16_384, 1024, 1_048_576),
    apiMaxBytes: 65_536,
    apiKeys,
    ...(apiKeysFile !== undefined ? { apiKeysFile } : {}),
    adminHost: get('ADMIN_HOST') ?? '127.0.0.1',
    adminPort: int('ADMIN_PORT', DEFAULT_ADMIN_PORT, 0, 65535),
    rateLimitPerMinute: int('API_RATE_LIMIT_PER_MINUTE', 600, 1, 1_000_000),
    qrMaxSize: int('QR_MAX_SIZE', 2048, 64, 4096),
    // One core stays with the event loop (it acknowledges Alipay's notifications).
    qrRenderThreads: int(
      'QR_RENDER_THREADS',
      Math.min(4, Math.max(1, availableParallelism() - 1)),
      1,
      16,
    ),
    refundWaitMs: int('REFUND_WAIT_MS', 10_000, 100, 120_000),
  };

  // Reconciliation
  let reconciliation: ReconciliationConfig | undefined;
  const sftpHost = get('RECON_SFTP_HOST') ?? (embeddedSandbox ? '127.0.0.1' : undefined);
  if (sftpHost) {
    const sandboxAccount = embeddedSandbox && get('RECON_SFTP_HOST') === undefined;
    const username =
      get('RECON_SFTP_USER') ?? (sandboxAccount ? DEFAULT_SANDBOX_SFTP_USERNAME : undefined);
    const privateKey = keyFrom('RECON_SFTP_PRIVATE_KEY');
    const password =
      get('RECON_SFTP_PASSWORD') ??
      (sandboxAccount && !privateKey ? DEFAULT_SANDBOX_SFTP_PASSWORD : undefined);
    if (!username) problems.push('RECON_SFTP_USER is required with RECON_SFTP_HOST');
    if (!password && !privateKey)
      problems.push(
        'RECON_SFTP_PASSWORD or RECON_SFTP_PRIVATE_KEY(_FILE) is required with RECON_SFTP_HOST',
      );
    const hostKeySha256 = get('RECON_SFTP_HOST_KEY_SHA256');
    if (hostKeySha256 !== undefined && !/^SHA256:[A-Za-z0-9+/]{43}$/.test(hostKeySha256))
      problems.push(
        'RECON_SFTP_HOST_KEY_SHA256: expected SHA256:<43 base64 characters> (ssh-keygen -l)',
      );
    if (!embeddedSandbox && hostKeySha256 === undefined)
      problems.push(
        "RECON_SFTP_HOST_KEY_SHA256 is required with a real gateway (pin Alipay's SFTP host key)",
      );
    const charset = (get('RECON_FILE_CHARSET') ?? 'UTF-8').toUpperCase();
    if (charset !== 'UTF-8' && charset !== 'GBK')
      problems.push(`RECON_FILE_CHARSET=${charset}: expected UTF-8 or GBK`);
    const passphrase = get('RECON_SFTP_PASSPHRASE');
    reconciliation = {
      sftp: {
        host: sftpHost,
        port: int(
          'RECON_SFTP_PORT',
          embeddedSandbox ? int('SANDBOX_SFTP_PORT', DEFAULT_SANDBOX_SFTP_PORT, 1, 65535) : 22,
          1,
          65535,
        ),
        username: username ?? '',
        ...(password ? { password } : {}),
        ...(privateKey ? { privateKey } : {}),
        ...(passphrase ? { passphrase } : {}),
        directory: get('RECON_SFTP_DIR') ?? DEFAULT_SANDBOX_SFTP_DIRECTORY,
        ...(hostKeySha256 ? { hostKeySha256 } : {}),
        timeoutMs: 20_000,
      },
      charset: charset as Charset,
      schedule: bool('RECON_SCHEDULE', true),
      scheduleHourGmt8: int('RECON_SCHEDULE_HOUR_GMT8', 10, 0, 23),
      graceMs: int('RECON_GRACE_MINUTES', 15, 0, 24 * 60) * 60_000,
      fileDeadlineMs: int('RECON_FILE_DEADLINE_HOURS', 24, 1, 24 * 14) * 3_600_000,
      retryEveryMs: int('RECON_RETRY_MINUTES', 30, 1, 24 * 60) * 60_000,
    };
  }

  if (problems.length > 0 || !connect) throw new ConfigError(problems);
  return {
    temporal: {
      connection: {
        ...connect.connectionOptions,
        address: connect.connectionOptions.address ?? '127.0.0.1:7233',
      },
      namespace: connect.namespace ?? 'default',
      taskQueue,
      ...(maxCachedWorkflows !== undefined ? { maxCachedWorkflows } : {}),
    },
    alipay: { gateway, embeddedSandbox, verifyNotifyIds },
    ...(merchantHook ? { merchantHook } : {}),
    payments,
    ...(reconciliation ? { reconciliation } : {}),
    http,
    observability: {
      ...(metricsSetting === 'off' ? {} : { runtimeMetricsAddress: metricsSetting }),
      ...(workerMetricsAddress ? { workerMetricsAddress } : {}),
      logLevel,
    },
  };
}
