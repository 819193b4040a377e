/**
 * Starts the Temporal CLI dev server for the engine: loopback only, SQLite file under `.data/`,
 * Web UI, Updates and multi-operations enabled, no version check (no network here), and the
 * engine's search attributes registered (idempotently: `--search-attribute` flags are ignored
 * when the DB file already exists, so registration goes through the operator API each time).
 *
 *   npm run dev-server [-- --port 7233 --ui-port 8233 --db .data/temporal.sqlite]
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLI_TYPE_NAMES, ENGINE_SEARCH_ATTRIBUTES } from '../src/search-attributes';
import { temporalCliPath } from './lib/temporal-tools';

const run = promisify(execFile);

export interface DevServerOptions {
  ip?: string;
  port?: number;
  uiPort?: number;
  /** SQLite file; relative paths are resolved against the repository root. */
  dbFile?: string;
  namespace?: string;
  /** Where the server's own output goes. */
  stdio?: 'inherit' | 'ignore';
}

export interface DevServer {
  address: string;
  uiUrl: string;
  namespace: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '..');

/** Dynamic config the engine relies on: Updates (refund/cancel) and signal-with-start style multi-operations. */
export const DEV_SERVER_DYNAMIC_CONFIG = [
  'frontend.enableServerVersionCheck=false',
  'frontend.enableUpdateWorkflowExecution=true',
  'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
  'frontend.enableExecuteMultiOperation=true',
];

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? 7233;
  const uiPort = options.uiPort ?? 8233;
  const namespace = options.namespace ?? 'default';
  const dbFile = path.resolve(ROOT, options.dbFile ?? '.data/temporal.sqlite');
  mkdirSync(path.dirname(dbFile), { recursive: true });
  await assertPortFree(ip, port, 'Temporal frontend');
  await assertPortFree(ip, uiPort, 'Temporal Web UI');

  const cli = temporalCliPath();
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--db-filename',
    dbFile,
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    ...DEV_SERVER_DYNAMIC_CONFIG.flatMap((kv) => ['--dynamic-config-value', kv]),
  ];
  const child = spawn(cli, args, {
    env: { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: '1' },
    stdio: options.stdio ?? 'ignore',
  });
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => ((exited = true), resolve())),
  );

  const address = `${ip}:${port}`;
  await waitForPort(ip, port, 30_000, () => exited);
  await registerSearchAttributes(cli, address, namespace);

  return {
    address,
    uiUrl: `http://localhost:${uiPort}`,
    namespace,
    process: child,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

/** Registers every engine search attribute on a server, skipping those already there. */
export async function registerSearchAttributes(
  cli: string,
  address: string,
  namespace: string,
): Promise<void> {
  const { stdout } = await run(
    cli,
    [
      'operator',
      'search-attribute',
      'list',
      '--address',
      address,
      '--namespace',
      namespace,
      '--output',
      'json',
    ],
    {
      env: { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: '1' },
    },
  );
  const missing = ENGINE_SEARCH_ATTRIBUTES.filter((key) => !stdout.includes(`"${key.name}"`));
  if (missing.length === 0) return;
  await run(
    cli,
    [
      'operator',
      'search-attribute',
      'create',
      '--address',
      address,
      '--namespace',
      namespace,
      ...missing.flatMap((key) => ['--name', key.name, '--type', CLI_TYPE_NAMES[key.type]]),
    ],
    { env: { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: '1' } },
  );
}

async function assertPortFree(host: string, port: number, what: string): Promise<void> {
  if (await canConnect(host, port)) {
    throw new Error(
      `${what} port ${host}:${port} is already in use (another dev server running?); stop it or choose another port`,
    );
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

async function waitForPort(
  host: string,
  port: number,
  timeoutMs: number,
  gaveUp: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gaveUp())
      throw new Error(
        'the Temporal dev server exited during start-up (run `npm run dev-server` to see its output)',
      );
    if (await canConnect(host, port)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `the Temporal dev server did not listen on ${host}:${port} within ${timeoutMs / 1000} s`,
  );
}

function parseArgs(argv: string[]): DevServerOptions {
  const options: DevServerOptions = { stdio: 'inherit' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--help' || flag === '-h') {
      console.log(
        'usage: npm run dev-server -- [--port 7233] [--ui-port 8233] [--db .data/temporal.sqlite] [--namespace default]',
      );
      process.exit(0);
    }
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--port') options.port = Number(value);
    else if (flag === '--ui-port') options.uiPort = Number(value);
    else if (flag === '--db') options.dbFile = value;
    else if (flag === '--namespace') options.namespace = value;
    else throw new Error(`unknown option ${flag} (try --help)`);
    i++;
  }
  return options;
}

if (require.main === module) {
  (async () => {
    const server = await startDevServer(parseArgs(process.argv.slice(2)));
    console.log(
      `Temporal dev server on ${server.address}, Web UI ${server.uiUrl}; Ctrl-C stops it`,
    );
    const stop = () => void server.stop().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  })().catch((err: unknown) => {
    console.error(`dev-server: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
