import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isSignType } from '../alipay/signing';
import {
  DEFAULT_SANDBOX_HOST,
  DEFAULT_SANDBOX_PORT,
  DEFAULT_SANDBOX_SFTP_PASSWORD,
  DEFAULT_SANDBOX_SFTP_PORT,
  DEFAULT_SANDBOX_SFTP_USERNAME,
} from './defaults';
import { SandboxError } from './errors';
import { DEFAULT_PARTNER_CONFIG, type SandboxPartnerConfig } from './partners';
import type { SandboxOptions } from './server';

/** Environment variables of `npm run sandbox`, with their meaning; printed by `--help`. */
export const SANDBOX_ENV_HELP: readonly (readonly [string, string])[] = [
  ['SANDBOX_HOST', `interface to listen on (default ${DEFAULT_SANDBOX_HOST})`],
  ['SANDBOX_PORT', `port (default ${DEFAULT_SANDBOX_PORT}; 0 = any free port)`],
  [
    'SANDBOX_PARTNERS_FILE',
    'JSON array of partners: {"partner","md5Key"?,"alipayPrivateKeyFile"?,"merchantPublicKeyFile"?,"notifySignType"?} (key files relative to the JSON file); added to the default partner',
  ],
  ['SANDBOX_DEFAULT_PARTNER', '"off" to drop the built-in MADE-UP MD5 partner 2088101122136241'],
  [
    'SANDBOX_TIME_SCALE',
    'real time per unit of notification schedule (default 1; 0.001 = retries 1000x faster)',
  ],
  ['SANDBOX_REFUND_PERIOD', 'refund period after payment, e.g. 90d, 36h, 15m (default 90d)'],
  ['SANDBOX_TIMESTAMP_WINDOW', 'validity of request timestamps (default 30m)'],
  ['SANDBOX_UNPAID_TIMEOUT', 'unpaid trades close after this (default 3m)'],
  ['SANDBOX_NOTIFY_TIMEOUT', 'timeout of one notification POST (default 15s)'],
  ['SANDBOX_NOTIFY_ID_TTL', 'how long notify_verify says true for a notify_id (default: forever)'],
  [
    'SANDBOX_CLOCK_START',
    'start the sandbox clock at this instant ("2024-01-01 23:55:00" is GMT+8, or ISO 8601)',
  ],
  [
    'SANDBOX_STATE_FILE',
    'JSON file keeping codes, trades, refunds, ID counters and pending notifications across restarts (also --state-file PATH; default: in memory only)',
  ],
  ['SANDBOX_QUIET', '"1" to log only the start-up line'],
  [
    'SANDBOX_SFTP_PORT',
    `port of the SFTP server with the reconciliation files (default ${DEFAULT_SANDBOX_SFTP_PORT}, 0 when SANDBOX_PORT is 0; 0 = any free port; off = none)`,
  ],
  ['SANDBOX_SFTP_USER', `SFTP user name (default ${DEFAULT_SANDBOX_SFTP_USERNAME})`],
  [
    'SANDBOX_SFTP_PASSWORD',
    `SFTP password (default ${DEFAULT_SANDBOX_SFTP_PASSWORD}; "none" = keys only)`,
  ],
  [
    'SANDBOX_SFTP_AUTHORIZED_KEYS_FILE',
    'OpenSSH public keys (one a line) accepted for the SFTP user',
  ],
  ['SANDBOX_SFTP_HOST_KEY_FILE', 'SFTP host private key (default: a fresh ed25519 key per start)'],
  [
    'SANDBOX_RECON_PUBLISH_DELAY',
    'files of a GMT+8 day appear this long after it ends (default 2h)',
  ],
  ['SANDBOX_RECON_CHARSET', 'charset of the files: UTF-8 or GBK (default UTF-8)'],
];

const bad = (message: string): never => {
  throw new SandboxError('SANDBOX_BAD_CONFIG', message);
};

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `15s`, `30m`, `36h`, `90d` or a bare number of milliseconds. */
export function parseDuration(name: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m)
    return bad(
      `${name}=${JSON.stringify(text)}: expected a duration such as 500ms, 15s, 30m, 36h or 90d`,
    );
  return Math.round(Number(m[1]) * (UNITS[m[2] ?? 'ms'] as number));
}

function readText(name: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    return bad(`${name}=${path}: ${(e as Error).message}`);
  }
}

interface PartnerFileEntry {
  partner?: unknown;
  md5Key?: unknown;
  alipayPrivateKey?: unknown;
  alipayPrivateKeyFile?: unknown;
  merchantPublicKey?: unknown;
  merchantPublicKeyFile?: unknown;
  notifySignType?: unknown;
}

function readPartnersFile(path: string): SandboxPartnerConfig[] {
  let entries: unknown;
  try {
    entries = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return bad(`SANDBOX_PARTNERS_FILE ${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(entries)) return bad(`SANDBOX_PARTNERS_FILE ${path}: expected a JSON array`);
  const base = dirname(resolve(path));
  const text = (
    entry: PartnerFileEntry,
    inline: keyof PartnerFileEntry,
    file: keyof PartnerFileEntry,
  ): string | undefined => {
    if (typeof entry[inline] === 'string') return entry[inline] as string;
    if (typeof entry[file] === 'string')
      return readFileSync(resolve(base, entry[file] as string), 'utf8');
    return undefined;
  };
  return (entries as PartnerFileEntry[]).map((entry, i) => {
    if (typeof entry.partner !== 'string')
      return bad(`SANDBOX_PARTNERS_FILE entry ${i}: "partner" is required`);
    if (entry.notifySignType !== undefined && !isSignType(entry.notifySignType))
      return bad(`entry ${i}: notifySignType must be MD5, RSA or RSA2`);
    const config: SandboxPartnerConfig = { partner: entry.partner };
    if (typeof entry.md5Key === 'string') config.md5Key = entry.md5Key;
    const privateKey = text(entry, 'alipayPrivateKey', 'alipayPrivateKeyFile');
    const publicKey = text(entry, 'merchantPublicKey', 'merchantPublicKeyFile');
    if (privateKey !== undefined) config.alipayPrivateKey = privateKey;
    if (publicKey !== undefined) config.merchantPublicKey = publicKey;
    if (entry.notifySignType !== undefined)
      config.notifySignType = entry.notifySignType as SandboxPartnerConfig['notifySignType'];
    return config;
  });
}

/** Reads and validates the sandbox's environment once; errors name the variable at fault. */
export function sandboxOptionsFromEnv(env: NodeJS.ProcessEnv): SandboxOptions & { quiet: boolean } {
  const options: SandboxOptions & { quiet: boolean } = { quiet: env.SANDBOX_QUIET === '1' };
  options.host = env.SANDBOX_HOST || DEFAULT_SANDBOX_HOST;
  const port = env.SANDBOX_PORT ?? String(DEFAULT_SANDBOX_PORT);
  if (!/^\d+$/.test(port) || Number(port) > 65535)
    bad(`SANDBOX_PORT=${JSON.stringify(port)}: expected 0..65535`);
  options.port = Number(port);
  const partners: SandboxPartnerConfig[] = env.SANDBOX_PARTNERS_FILE
    ? readPartnersFile(env.SANDBOX_PARTNERS_FILE)
    : [];
  const dropDefault = env.SANDBOX_DEFAULT_PARTNER === 'off';
  if (!dropDefault && !partners.some((p) => p.partner === DEFAULT_PARTNER_CONFIG.partner))
    partners.unshift(DEFAULT_PARTNER_CONFIG);
  options.partners = partners;
  if (env.SANDBOX_TIME_SCALE) {
    const scale = Number(env.SANDBOX_TIME_SCALE);
    if (!(scale >= 0) || !Number.isFinite(scale))
      bad(`SANDBOX_TIME_SCALE=${JSON.stringify(env.SANDBOX_TIME_SCALE)}: expected a number >= 0`);
    options.timeScale = scale;
  }
  if (env.SANDBOX_REFUND_PERIOD)
    options.refundPeriodMs = parseDuration('SANDBOX_REFUND_PERIOD', env.SANDBOX_REFUND_PERIOD);
  if (env.SANDBOX_TIMESTAMP_WINDOW)
    options.timestampWindowMs = parseDuration(
      'SANDBOX_TIMESTAMP_WINDOW',
      env.SANDBOX_TIMESTAMP_WINDOW,
    );
  if (env.SANDBOX_UNPAID_TIMEOUT)
    options.unpaidTimeoutMs = parseDuration('SANDBOX_UNPAID_TIMEOUT', env.SANDBOX_UNPAID_TIMEOUT);
  if (env.SANDBOX_NOTIFY_TIMEOUT)
    options.notifyTimeoutMs = parseDuration('SANDBOX_NOTIFY_TIMEOUT', env.SANDBOX_NOTIFY_TIMEOUT);
  if (env.SANDBOX_NOTIFY_ID_TTL)
    options.notifyIdTtlMs = parseDuration('SANDBOX_NOTIFY_ID_TTL', env.SANDBOX_NOTIFY_ID_TTL);
  if (env.SANDBOX_CLOCK_START) options.clock = { start: env.SANDBOX_CLOCK_START };
  if (env.SANDBOX_STATE_FILE) options.stateFile = env.SANDBOX_STATE_FILE;
  // With SANDBOX_PORT=0 (tests) the SFTP server takes any free port too.
  const sftpPort =
    env.SANDBOX_SFTP_PORT ?? (options.port === 0 ? '0' : String(DEFAULT_SANDBOX_SFTP_PORT));
  if (sftpPort === 'off') options.sftp = false;
  else {
    if (!/^\d+$/.test(sftpPort) || Number(sftpPort) > 65535)
      bad(`SANDBOX_SFTP_PORT=${JSON.stringify(sftpPort)}: expected 0..65535 or off`);
    const password = env.SANDBOX_SFTP_PASSWORD ?? DEFAULT_SANDBOX_SFTP_PASSWORD;
    const keysFile = env.SANDBOX_SFTP_AUTHORIZED_KEYS_FILE;
    const authorizedKeys = keysFile
      ? readText('SANDBOX_SFTP_AUTHORIZED_KEYS_FILE', keysFile)
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter((l) => l !== '' && !l.startsWith('#'))
      : undefined;
    const hostKey = env.SANDBOX_SFTP_HOST_KEY_FILE
      ? readText('SANDBOX_SFTP_HOST_KEY_FILE', env.SANDBOX_SFTP_HOST_KEY_FILE)
      : undefined;
    options.sftp = {
      port: Number(sftpPort),
      account: {
        username: env.SANDBOX_SFTP_USER || DEFAULT_SANDBOX_SFTP_USERNAME,
        ...(password === 'none' ? {} : { password }),
        ...(authorizedKeys ? { authorizedKeys } : {}),
      },
      ...(hostKey ? { hostKey } : {}),
    };
  }
  const recon: NonNullable<SandboxOptions['recon']> = {};
  if (env.SANDBOX_RECON_PUBLISH_DELAY)
    recon.publishDelayMs = parseDuration(
      'SANDBOX_RECON_PUBLISH_DELAY',
      env.SANDBOX_RECON_PUBLISH_DELAY,
    );
  if (env.SANDBOX_RECON_CHARSET) {
    const cs = env.SANDBOX_RECON_CHARSET.toUpperCase();
    if (cs !== 'UTF-8' && cs !== 'GBK') bad('SANDBOX_RECON_CHARSET: expected UTF-8 or GBK');
    recon.charset = cs as 'UTF-8' | 'GBK';
  }
  options.recon = recon;
  return options;
}
