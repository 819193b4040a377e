import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { SandboxClock, type SandboxClockOptions } from './clock';
import { handleControl } from './control';
import type { SandboxCore } from './core';
import { pay, type PaidTrade, type PayInput } from './customer';
import {
  DEFAULT_NOTIFY_RETRY_GAPS_MS,
  DEFAULT_NOTIFY_TIMEOUT_MS,
  DEFAULT_REFUND_PERIOD_MS,
  DEFAULT_SANDBOX_HOST,
  DEFAULT_SANDBOX_SFTP_DIRECTORY,
  DEFAULT_SANDBOX_SFTP_PASSWORD,
  DEFAULT_SANDBOX_SFTP_USERNAME,
  DEFAULT_TIMESTAMP_WINDOW_MS,
  DEFAULT_UNPAID_TIMEOUT_MS,
  GATEWAY_PATH,
} from './defaults';
import { SandboxError } from './errors';
import { FaultBook } from './faults';
import { handleGateway } from './gateway/handler';
import { HeldConnections } from './held-connections';
import { sendJson } from './http-util';
import { SandboxInspector } from './inspection';
import { Notifier } from './notifier';
import { DEFAULT_PARTNER_CONFIG, PartnerRegistry, type SandboxPartnerConfig } from './partners';
import { captureState, readStateFile, restoreState, StateFileWriter } from './state-file';
import { CodeBook } from './state/codes';
import { IdFactory } from './state/ids';
import { TradeBook } from './state/trades';
import { handleReconControl } from './recon/control-routes';
import { ReconFiles, type ReconFileOptions } from './recon/publisher';
import { startSftpServer, type SftpAccount, type SftpServer } from './recon/sftp-server';

/** Options of {@link startSandbox}; every one has a default suitable for tests. */
export interface SandboxOptions {
  /** Interface to listen on (default 127.0.0.1: the sandbox is a loopback peer). */
  host?: string;
  /** Port (default 0: any free port; read it from the result). */
  port?: number;
  /** Partners and their keys (default: the MADE-UP MD5 partner of MAPI.md, `DEFAULT_PARTNER_CONFIG`). */
  partners?: readonly SandboxPartnerConfig[];
  /** The sandbox clock, or options to make one (default: host time, running). */
  clock?: SandboxClock | SandboxClockOptions;
  /** Real ms per sandbox ms of the notification schedule (default 1; 0.0001 makes 25 h take 9 s). */
  timeScale?: number;
  /** Gaps between notification deliveries (default Alipay's 2m, 10m, 10m, 1h, 2h, 6h, 15h). */
  notifyRetryGapsMs?: readonly number[];
  /** Per-delivery timeout in real ms (default 15 s). */
  notifyTimeoutMs?: number;
  /** How long a `notify_id` verifies `true` (default: forever) [R]. */
  notifyIdTtlMs?: number;
  /** Refund period after payment (default 90 days) [R]. */
  refundPeriodMs?: number;
  /** Unpaid trades close after this (default 3 minutes). */
  unpaidTimeoutMs?: number;
  /** `timestamp` validity window (default 30 minutes). */
  timestampWindowMs?: number;
  /** Receives one line per gateway call, delivery problem or internal error (default: silent). */
  log?: (line: string) => void;
  /**
   * JSON file that keeps codes, trades, refunds, ID counters and notifications across restarts
   * (default: none, in memory only). Loaded at start when it exists, saved shortly after every
   * change (atomically) and at `close()`. The clock and the fault script are not kept.
   */
  stateFile?: string;
  /** The daily reconciliation files (publication delay, charset, fee rate). */
  recon?: ReconFileOptions;
  /**
   * The SFTP server that serves the reconciliation files, or `false` for none. Default: on the
   * sandbox's host, any free port, the MADE-UP account `alipay-sandbox` / `sandbox-sftp-password`.
   */
  sftp?: false | { port?: number; account?: SftpAccount; directory?: string; hostKey?: string };
}

/** The sandbox's SFTP server and the account it accepts. */
export type SandboxSftp = SftpServer & { readonly username: string; readonly password?: string };

/** A running sandbox. */
export interface Sandbox {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The MAPI gateway URL: `${url}/gateway.do`. */
  readonly gatewayUrl: string;
  readonly port: number;
  /** Move time to cross GMT+8 midnight or the refund period. */
  readonly clock: SandboxClock;
  /** Script faults in process: `sandbox.faults.add({ service: 'REFUND', kind: 'lost-answer' })`. */
  readonly faults: FaultBook;
  /** Read-only views: trades, refunds, codes, notifications. */
  readonly state: SandboxInspector;
  /** Notification deliveries: `settled(notifyId)`, `retryNow(notifyId)`, `list()`. */
  readonly notifications: Notifier;
  /** A customer pays a code (same as `POST /sandbox/pay`). */
  pay(input: PayInput): PaidTrade;
  /** Daily reconciliation files: `produce(date)`, `addFault(date, fault)`, `clearFaults(date)`. */
  readonly recon: ReconFiles;
  /** The SFTP server serving them (undefined with `sftp: false`). */
  readonly sftp: SandboxSftp | undefined;
  /** The state file (absolute path), when the sandbox keeps one. */
  readonly stateFile: string | undefined;
  /**
   * Stops listening, drops held connections and cancels pending notifications, then writes the
   * state file a last time (if any). Idempotent.
   */
  close(): Promise<void>;
}

function makeCore(options: SandboxOptions, changed: () => void): SandboxCore {
  const clock =
    options.clock instanceof SandboxClock ? options.clock : new SandboxClock(options.clock);
  const faults = new FaultBook();
  const log = options.log ?? ((): void => {});
  const ids = new IdFactory();
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale >= 0) || !Number.isFinite(timeScale))
    throw new SandboxError('SANDBOX_BAD_CONFIG', 'timeScale must be a finite number >= 0');
  return {
    clock,
    partners: new PartnerRegistry(options.partners ?? [DEFAULT_PARTNER_CONFIG]),
    ids,
    codes: new CodeBook(ids),
    trades: new TradeBook(ids, {
      refundPeriodMs: options.refundPeriodMs ?? DEFAULT_REFUND_PERIOD_MS,
      unpaidTimeoutMs: options.unpaidTimeoutMs ?? DEFAULT_UNPAID_TIMEOUT_MS,
    }),
    faults,
    notifier: new Notifier({
      clock,
      faults,
      timeScale,
      retryGapsMs: options.notifyRetryGapsMs ?? DEFAULT_NOTIFY_RETRY_GAPS_MS,
      timeoutMs: options.notifyTimeoutMs ?? DEFAULT_NOTIFY_TIMEOUT_MS,
      log,
    }),
    rules: {
      timestampWindowMs: options.timestampWindowMs ?? DEFAULT_TIMESTAMP_WINDOW_MS,
      notifyIdTtlMs: options.notifyIdTtlMs,
    },
    log,
    changed,
  };
}

/**
 * Starts an Alipay MAPI sandbox: `gateway.do` for the six services and `notify_verify`, a
 * customer endpoint, fault injection and inspection under `/sandbox/*`. In memory, or kept in
 * `options.stateFile`; one independent instance per call.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const stateFile = options.stateFile ? resolvePath(options.stateFile) : undefined;
  // An unreadable or unknown-version file stops the start before anything runs.
  const saved = stateFile ? readStateFile(stateFile) : undefined;
  let writer: StateFileWriter | undefined;
  const core = makeCore(options, () => writer?.touch());
  if (saved) restoreState(core, saved);
  if (stateFile) {
    try {
      writer = new StateFileWriter(stateFile, () => captureState(core), core.log);
      writer.flush(); // fails now, not at the first payment, when the file cannot be written
    } catch (e) {
      await core.notifier.close();
      throw e;
    }
    const w = writer;
    core.notifier.onChange(() => w.touch());
    if (saved)
      core.log(
        `state restored from ${stateFile}: ${saved.codes.length} codes, ${saved.trades.length} trades, ${saved.refunds.length} refunds, ${saved.notifications.length} notifications`,
      );
  }
  const inspector = new SandboxInspector(core);
  const held = new HeldConnections();
  const recon = new ReconFiles(core, options.recon);
  let sftp: SandboxSftp | undefined;
  if (options.sftp !== false) {
    const account = options.sftp?.account ?? {
      username: DEFAULT_SANDBOX_SFTP_USERNAME,
      password: DEFAULT_SANDBOX_SFTP_PASSWORD,
    };
    try {
      const server = await startSftpServer({
        host: options.host ?? DEFAULT_SANDBOX_HOST,
        port: options.sftp?.port ?? 0,
        account,
        directory: options.sftp?.directory ?? DEFAULT_SANDBOX_SFTP_DIRECTORY,
        ...(options.sftp?.hostKey ? { hostKey: options.sftp.hostKey } : {}),
        files: () => recon.visibleFiles(),
        log: core.log,
      });
      sftp = Object.assign(server, {
        username: account.username,
        ...(account.password !== undefined ? { password: account.password } : {}),
      });
    } catch (e) {
      writer?.close(false);
      await core.notifier.close();
      throw e;
    }
  }

  const server = createServer((req, res) => {
    route(core, inspector, held, req, res, recon, sftp).catch((e: unknown) => {
      core.log(
        `internal error on ${req.method ?? '?'} ${req.url ?? '?'}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      );
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      if (e instanceof SandboxError)
        sendJson(res, e.httpStatus, { error: e.code, message: e.message });
      else
        sendJson(res, 500, {
          error: 'SANDBOX_INTERNAL',
          message: e instanceof Error ? e.message : String(e),
        });
    });
  });
  server.keepAliveTimeout = 5_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? DEFAULT_SANDBOX_HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    // Restored notifications must not go out from a sandbox that did not start.
    await sftp?.close();
    writer?.close(false);
    await core.notifier.close();
    throw e;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    gatewayUrl: `${url}${GATEWAY_PATH}`,
    port: address.port,
    clock: core.clock,
    faults: core.faults,
    state: inspector,
    notifications: core.notifier,
    pay: (input) => pay(core, input),
    recon,
    sftp,
    stateFile,
    close: () => {
      closing ??= (async () => {
        held.closeAll();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await core.notifier.close();
        await stopped;
        await sftp?.close();
        writer?.close();
      })();
      return closing;
    },
  };
}

async function route(
  core: SandboxCore,
  inspector: SandboxInspector,
  held: HeldConnections,
  req: IncomingMessage,
  res: ServerResponse,
  recon: ReconFiles,
  sftp: SandboxSftp | undefined,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] as string;
  if (path === GATEWAY_PATH) return handleGateway(core, held, req, res);
  if (path.startsWith('/sandbox/recon') && (await handleReconControl(recon, sftp, req, res, path)))
    return;
  if (path === '/sandbox' || path.startsWith('/sandbox/'))
    return handleControl(core, inspector, req, res, path);
  if (path === '/healthz') return sendJson(res, 200, { ok: true });
  sendJson(res, 404, { error: 'not found', try: [GATEWAY_PATH, '/sandbox'] });
}
