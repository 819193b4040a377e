import { createHash } from 'node:crypto';
import SftpClient from 'ssh2-sftp-client';
import { EngineError } from '../errors';

/**
 * Where Alipay puts a partner's daily reconciliation files: an SFTP account (MAPI.md §15). The
 * password or private key are secrets; they never appear in errors or logs.
 */
export interface ReconciliationSftpConfig {
  host: string;
  port: number;
  username: string;
  password?: string;
  /** PEM / OpenSSH private key text. */
  privateKey?: string;
  passphrase?: string;
  /** Remote directory of the files, e.g. `/download`. */
  directory: string;
  /**
   * The server's host-key fingerprint as OpenSSH prints it (`SHA256:…`): the connection is
   * refused when the server shows another key. Unset: any key is accepted (sandbox only).
   */
  hostKeySha256?: string;
  /** Connection and handshake timeout (ms). */
  timeoutMs: number;
}

/** The SFTP server could not be reached or refused us; repeating later may work. */
export class ReconciliationSftpError extends EngineError {
  readonly code = 'RECONCILIATION_SFTP_UNAVAILABLE';
  readonly retryable = true;
}

/** `SHA256:<base64, no padding>` of a raw SSH public key, as `ssh-keygen -l` prints it. */
export function hostKeyFingerprint(rawKey: Buffer): string {
  return `SHA256:${createHash('sha256').update(rawKey).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Downloads files by name from the account's directory over one SFTP connection. A file that
 * is not there (yet) answers `undefined`; anything else that goes wrong is a
 * {@link ReconciliationSftpError}.
 */
export async function downloadFiles(
  config: ReconciliationSftpConfig,
  names: readonly string[],
): Promise<Map<string, Buffer | undefined>> {
  const sftp = new SftpClient('alipay-reconciliation');
  const found = new Map<string, Buffer | undefined>();
  let hostKeyRefused = false;
  try {
    await sftp.connect({
      host: config.host,
      port: config.port,
      username: config.username,
      ...(config.password !== undefined ? { password: config.password } : {}),
      ...(config.privateKey !== undefined ? { privateKey: config.privateKey } : {}),
      ...(config.passphrase !== undefined ? { passphrase: config.passphrase } : {}),
      readyTimeout: config.timeoutMs,
      retries: 0,
      ...(config.hostKeySha256
        ? {
            hostVerifier: (key: Buffer) => {
              hostKeyRefused = hostKeyFingerprint(key) !== config.hostKeySha256;
              return !hostKeyRefused;
            },
          }
        : {}),
    });
    for (const name of names) {
      const path = `${config.directory.replace(/\/+$/, '')}/${name}`;
      if ((await sftp.exists(path)) !== '-') {
        found.set(name, undefined);
        continue;
      }
      found.set(name, (await sftp.get(path)) as Buffer);
    }
    return found;
  } catch (e) {
    const why = hostKeyRefused
      ? `the host key is not ${config.hostKeySha256}`
      : e instanceof Error
        ? e.message.replace(/password[^,;]*/gi, 'password [redacted]')
        : String(e);
    throw new ReconciliationSftpError(
      `SFTP ${config.username}@${config.host}:${config.port}: ${why}`,
    );
  } finally {
    await sftp.end().catch(() => undefined);
  }
}
