import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { posix } from 'node:path';
import { Server, utils, type Connection, type ParsedKey, type SFTPWrapper } from 'ssh2';
import { SandboxError } from '../errors';
import type { ReconFile } from './publisher';

const { STATUS_CODE, OPEN_MODE } = utils.sftp;

/** The SFTP account Alipay gives a partner, as the sandbox's SFTP server knows it. */
export interface SftpAccount {
  username: string;
  /** Password authentication (unset: only keys). */
  password?: string;
  /** Authorized public keys, OpenSSH one-line format (`ssh-ed25519 AAAA…`). */
  authorizedKeys?: readonly string[];
}

/** Options of {@link startSftpServer}. */
export interface SftpServerOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  account: SftpAccount;
  /** Directory the files appear in (default `/download`) [R]. */
  directory?: string;
  /** Host key (OpenSSH or PEM private key); default: a fresh ed25519 key per start. */
  hostKey?: string;
  /** The files to serve, asked for on every listing and open (so faults and the clock apply). */
  files: () => readonly ReconFile[];
  log: (line: string) => void;
}

/** A running SFTP server. */
export interface SftpServer {
  readonly host: string;
  readonly port: number;
  readonly directory: string;
  /** The host key's public half (OpenSSH line), to pin as a known host. */
  readonly hostPublicKey: string;
  close(): Promise<void>;
}

const sha = (s: string | Buffer): Buffer => createHash('sha256').update(s).digest();

/** Constant-time text comparison (hash both sides first so lengths leak nothing). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(sha(a), sha(b));
}

/**
 * A fresh ed25519 host key. `ssh2`'s generator writes a key its own parser refuses about once in
 * 200 (measured: 10 of 2,000), so a key is only taken once it parses.
 */
function generatedHostKey(): string {
  for (let attempt = 0; attempt < 20; attempt++) {
    const key = utils.generateKeyPairSync('ed25519').private;
    if (!(utils.parseKey(key) instanceof Error)) return key;
  }
  throw new SandboxError('SANDBOX_BAD_CONFIG', 'could not generate a usable SFTP host key');
}

/**
 * A real, read-only SFTP server (the `ssh2` package's server) in front of the reconciliation
 * files: password or public-key authentication as configured for the account, one directory,
 * OPEN/READ/STAT/READDIR; anything that writes is refused with PERMISSION_DENIED.
 */
export async function startSftpServer(options: SftpServerOptions): Promise<SftpServer> {
  const directory = posix.normalize(options.directory ?? '/download');
  const hostKey = options.hostKey ?? generatedHostKey();
  const parsedHostKey = utils.parseKey(hostKey);
  if (parsedHostKey instanceof Error)
    throw new SandboxError('SANDBOX_BAD_CONFIG', `SFTP host key: ${parsedHostKey.message}`);
  const keys: ParsedKey[] = [];
  for (const line of options.account.authorizedKeys ?? []) {
    const key = utils.parseKey(line);
    if (key instanceof Error)
      throw new SandboxError('SANDBOX_BAD_CONFIG', `SFTP authorized key: ${key.message}`);
    keys.push(Array.isArray(key) ? (key[0] as ParsedKey) : key);
  }
  if (options.account.password === undefined && keys.length === 0)
    throw new SandboxError('SANDBOX_BAD_CONFIG', 'the SFTP account needs a password or a key');

  const connections = new Set<Connection>();
  const server = new Server({ hostKeys: [hostKey] }, (client) => {
    connections.add(client);
    client.on('close', () => connections.delete(client));
    client.on('error', (e) => options.log(`sftp: connection error: ${e.message}`));
    client.on('authentication', (ctx) => {
      const { account } = options;
      const userOk = sameSecret(ctx.username, account.username);
      if (ctx.method === 'password' && account.password !== undefined) {
        if (userOk && sameSecret(ctx.password, account.password)) return ctx.accept();
      } else if (ctx.method === 'publickey') {
        const key = keys.find(
          (k) => k.type === ctx.key.algo && k.getPublicSSH().equals(ctx.key.data),
        );
        if (userOk && key) {
          // Without a signature the client only asks whether the key would do.
          if (!ctx.signature) return ctx.accept();
          if (ctx.blob && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true)
            return ctx.accept();
        }
      }
      const methods: ('password' | 'publickey')[] = [];
      if (account.password !== undefined) methods.push('password');
      if (keys.length > 0) methods.push('publickey');
      if (ctx.method !== 'none')
        options.log(`sftp: ${ctx.method} authentication refused for ${ctx.username}`);
      return ctx.reject(methods);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('sftp', (acceptSftp) => serveFiles(acceptSftp(), directory, options));
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    host: options.host,
    port: address.port,
    directory,
    hostPublicKey: `${parsedHostKey.type} ${(Array.isArray(parsedHostKey) ? parsedHostKey[0] : parsedHostKey).getPublicSSH().toString('base64')}`,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const c of connections) c.end();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

/** One SFTP session: read-only views of the directory listing and the files. */
function serveFiles(sftp: SFTPWrapper, directory: string, options: SftpServerOptions): void {
  const handles = new Map<number, { bytes: Buffer } | { listed: boolean; path: string }>();
  let nextHandle = 1;
  const newHandle = (value: { bytes: Buffer } | { listed: boolean; path: string }): Buffer => {
    const id = nextHandle++;
    handles.set(id, value);
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(id);
    return buf;
  };
  const handleOf = (buf: Buffer) =>
    buf.length === 4 ? handles.get(buf.readUInt32BE(0)) : undefined;
  const resolve = (path: string): string => posix.normalize(posix.resolve('/', path));
  const fileAt = (path: string): ReconFile | undefined => {
    const full = resolve(path);
    if (posix.dirname(full) !== directory) return undefined;
    return options.files().find((f) => f.name === posix.basename(full));
  };
  const isDir = (path: string): boolean => {
    const full = resolve(path);
    return full === '/' || full === directory || directory.startsWith(`${full}/`);
  };
  const fileAttrs = (f: ReconFile) => {
    const t = Math.floor(f.visibleFrom / 1000);
    return { mode: 0o100444, uid: 0, gid: 0, size: f.bytes.length, atime: t, mtime: t };
  };
  const dirAttrs = { mode: 0o040555, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0 };
  const denied = (reqid: number) =>
    sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED, 'permission denied: read-only');

  sftp.on('REALPATH', (reqid, path) => {
    const full = resolve(path);
    sftp.name(reqid, [{ filename: full, longname: full, attrs: dirAttrs }]);
  });
  const stat = (reqid: number, path: string) => {
    const f = fileAt(path);
    if (f) return sftp.attrs(reqid, fileAttrs(f));
    if (isDir(path)) return sftp.attrs(reqid, dirAttrs);
    return sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE, 'no such file');
  };
  sftp.on('STAT', stat);
  sftp.on('LSTAT', stat);
  sftp.on('OPEN', (reqid, filename, flags) => {
    if (flags & (OPEN_MODE.WRITE | OPEN_MODE.APPEND | OPEN_MODE.CREAT | OPEN_MODE.TRUNC))
      return denied(reqid);
    const f = fileAt(filename);
    if (!f) return sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE, 'no such file');
    options.log(`sftp: ${f.name} opened`);
    return sftp.handle(reqid, newHandle({ bytes: f.bytes }));
  });
  sftp.on('READ', (reqid, handle, offset, length) => {
    const h = handleOf(handle);
    if (!h || !('bytes' in h)) return sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
    if (offset >= h.bytes.length) return sftp.status(reqid, STATUS_CODE.EOF);
    return sftp.data(reqid, h.bytes.subarray(offset, Math.min(h.bytes.length, offset + length)));
  });
  sftp.on('FSTAT', (reqid, handle) => {
    const h = handleOf(handle);
    if (!h) return sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
    if ('bytes' in h)
      return sftp.attrs(reqid, { ...dirAttrs, mode: 0o100444, size: h.bytes.length });
    return sftp.attrs(reqid, dirAttrs);
  });
  sftp.on('OPENDIR', (reqid, path) => {
    if (!isDir(path)) return sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE, 'no such directory');
    return sftp.handle(reqid, newHandle({ listed: false, path: resolve(path) }));
  });
  sftp.on('READDIR', (reqid, handle) => {
    const h = handleOf(handle);
    if (!h || !('listed' in h)) return sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
    if (h.listed) return sftp.status(reqid, STATUS_CODE.EOF);
    h.listed = true;
    const names =
      h.path === directory
        ? options.files().map((f) => ({
            filename: f.name,
            longname: `-r--r--r-- 1 alipay alipay ${f.bytes.length} ${f.name}`,
            attrs: fileAttrs(f),
          }))
        : directory.startsWith(`${h.path === '/' ? '' : h.path}/`)
          ? [
              {
                filename: directory
                  .slice(h.path === '/' ? 1 : h.path.length + 1)
                  .split('/')[0] as string,
                longname: 'dr-xr-xr-x 1 alipay alipay 0 download',
                attrs: dirAttrs,
              },
            ]
          : [];
    if (names.length === 0) return sftp.status(reqid, STATUS_CODE.EOF);
    return sftp.name(reqid, names);
  });
  sftp.on('CLOSE', (reqid, handle) => {
    const known = handle.length === 4 && handles.delete(handle.readUInt32BE(0));
    sftp.status(reqid, known ? STATUS_CODE.OK : STATUS_CODE.FAILURE);
  });
  for (const op of [
    'WRITE',
    'SETSTAT',
    'FSETSTAT',
    'REMOVE',
    'MKDIR',
    'RMDIR',
    'RENAME',
    'SYMLINK',
  ] as const)
    sftp.on(op, (reqid: number) => denied(reqid));
  sftp.on('READLINK', (reqid) => sftp.status(reqid, STATUS_CODE.OP_UNSUPPORTED));
}
