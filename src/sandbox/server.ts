import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SandboxClock, type SandboxClockOptions } from './clock';
import { handleControl } from './control';
import type { SandboxCore } from './core';
import { pay, type PaidTrade, type PayInput } from './customer';
import {
  DEFAULT_NOTIFY_RETRY_GAPS_MS,
  DEFAULT_NOTIFY_TIMEOUT_MS,
  DEFAULT_REFUND_PERIOD_MS,
  DEFAULT_SANDBOX_HOST,
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
import { CodeBook } from './state/codes';
import { IdFactory } from './state/ids';
import { TradeBook } from './state/trades';

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
}

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
  /** Stops listening, drops held connections and cancels pending notifications. Idempotent. */
  close(): Promise<void>;
}

function makeCore(options: SandboxOptions): SandboxCore {
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
  };
}

/**
 * Starts an Alipay MAPI sandbox: `gateway.do` for the six services and `notify_verify`, a
 * customer endpoint, fault injection and inspection under `/sandbox/*`. In-memory; one
 * independent instance per call.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const core = makeCore(options);
  const inspector = new SandboxInspector(core);
  const held = new HeldConnections();

  const server = createServer((req, res) => {
    route(core, inspector, held, req, res).catch((e: unknown) => {
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? DEFAULT_SANDBOX_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
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
    close: () => {
      closing ??= (async () => {
        held.closeAll();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await core.notifier.close();
        await stopped;
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
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] as string;
  if (path === GATEWAY_PATH) return handleGateway(core, held, req, res);
  if (path === '/sandbox' || path.startsWith('/sandbox/'))
    return handleControl(core, inspector, req, res, path);
  if (path === '/healthz') return sendJson(res, 200, { ok: true });
  sendJson(res, 404, { error: 'not found', try: [GATEWAY_PATH, '/sandbox'] });
}
