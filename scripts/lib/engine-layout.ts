/**
 * The engine's production layout: every part its own process with one PID (`node --import tsx
 * <entry>`, never behind npm, which does not forward signals), each with its own metrics port:
 *
 *   sandbox    src/sandbox/main.ts   the Alipay simulator (absent when ALIPAY_GATEWAY_URL is set)
 *   http-<i>   src/server/main.ts    notification receiver + merchant API (stateless, scale freely)
 *   worker-<i> src/worker.ts         workflows and activities on the task queue (scale by polling)
 *   balancer   scripts/balancer.ts   round robin over the HTTP services: the notify_url given to
 *                                    Alipay and the merchant API's address (a stand-in for the
 *                                    production load balancer; absent when ALIPAY_NOTIFY_URL is set)
 *
 * Processes are detached (they outlive the command that started them), log to `<dir>/logs/` and
 * leave their PID in `<dir>/run/<name>.pid`. Used by `scripts/engine-layout.ts` (people) and
 * test/cluster (which kills and restarts single processes).
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
export const DEFAULT_LAYOUT_DIR = path.join(REPO, '.data', 'engine-layout');
export const DEFAULT_PORT_BASE = 7870;
/** The local cluster of `scripts/cluster.sh`. */
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7833';

export type Role = 'sandbox' | 'http' | 'worker' | 'balancer';

const ENTRIES: Record<Role, string> = {
  sandbox: 'src/sandbox/main.ts',
  http: 'src/server/main.ts',
  worker: 'src/worker.ts',
  balancer: 'scripts/balancer.ts',
};

export interface ProcessSpec {
  name: string;
  role: Role;
  entry: string;
  env: Record<string, string>;
  /** Answers 200 once the process is ready: sandbox /healthz, HTTP admin /readyz, worker /metrics. */
  readyUrl: string;
  /** Where the process's Prometheus metrics are (HTTP: its admin listener's /metrics). */
  metricsUrl: string;
  /** The HTTP service's base URL, or the sandbox's. */
  url?: string;
  /** The HTTP service's operator listener (`/readyz`, `/metrics`). */
  adminUrl?: string;
}

export interface LayoutOptions {
  workers: number;
  http: number;
  /** Ports: sandbox base, its SFTP server base+8, balancer base+9, HTTP base+10+i, HTTP runtime metrics base+20+i,
   *  worker /metrics base+30+i, worker runtime metrics base+40+i, HTTP admin listener
   *  (/readyz, /metrics) base+50+i (i from 0). */
  portBase?: number;
  dir?: string;
  /** The environment handed to every process (TEMPORAL_*, ALIPAY_*, SANDBOX_*...). */
  env?: NodeJS.ProcessEnv;
}

export interface Layout {
  dir: string;
  processes: ProcessSpec[];
  /** The sandbox's base URL, when the layout has one. */
  sandboxUrl?: string;
  httpUrls: string[];
  /** The balancer's base URL, when the layout has one. */
  balancerUrl?: string;
}

/** Which processes to run, on which ports, with which environment. Starts nothing. */
export function planLayout(options: LayoutOptions): Layout {
  const base = options.portBase ?? DEFAULT_PORT_BASE;
  const dir = options.dir ?? DEFAULT_LAYOUT_DIR;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.env ?? process.env))
    if (value !== undefined) env[key] = value;
  env.TEMPORAL_ADDRESS ??= DEFAULT_TEMPORAL_ADDRESS;
  const embeddedSandbox = !env.ALIPAY_GATEWAY_URL;
  const processes: ProcessSpec[] = [];
  const loopback = '127.0.0.1';
  let sandboxUrl: string | undefined;
  if (embeddedSandbox) {
    sandboxUrl = `http://${loopback}:${base}`;
    env.SANDBOX_PORT = String(base);
    // The sandbox's SFTP server (reconciliation files) next to it, and the engine told where.
    env.SANDBOX_SFTP_PORT ??= String(base + 8);
    env.RECON_SFTP_PORT ??= env.SANDBOX_SFTP_PORT;
    processes.push({
      name: 'sandbox',
      role: 'sandbox',
      entry: ENTRIES.sandbox,
      // Alipay never forgets: its trades live as long as the cluster's histories.
      env: {
        ...env,
        SANDBOX_STATE_FILE: env.SANDBOX_STATE_FILE ?? path.join(dir, 'sandbox-state.json'),
      },
      readyUrl: `${sandboxUrl}/healthz`,
      metricsUrl: `${sandboxUrl}/sandbox/state`,
      url: sandboxUrl,
    });
  }
  const httpUrls: string[] = [];
  for (let i = 0; i < options.http; i++) {
    const url = `http://${loopback}:${base + 10 + i}`;
    // The operator listener (/readyz, /metrics) stays off the balancer's path.
    const admin = `http://${loopback}:${base + 50 + i}`;
    httpUrls.push(url);
    processes.push({
      name: `http-${i + 1}`,
      role: 'http',
      entry: ENTRIES.http,
      env: {
        ...env,
        HTTP_PORT: String(base + 10 + i),
        ADMIN_HOST: loopback,
        ADMIN_PORT: String(base + 50 + i),
        TEMPORAL_METRICS_ADDRESS: `${loopback}:${base + 20 + i}`,
      },
      readyUrl: `${admin}/readyz`,
      metricsUrl: `${admin}/metrics`,
      url,
      adminUrl: admin,
    });
  }
  // Alipay's notifications go to the balancer, unless a notify URL (your own balancer) is set.
  let balancerUrl: string | undefined;
  if (!env.ALIPAY_NOTIFY_URL && httpUrls.length > 0) {
    balancerUrl = `http://${loopback}:${base + 9}`;
    processes.push({
      name: 'balancer',
      role: 'balancer',
      entry: ENTRIES.balancer,
      env: { ...env, BALANCER_PORT: String(base + 9), BALANCER_BACKENDS: httpUrls.join(',') },
      readyUrl: `${balancerUrl}/balancer/healthz`,
      metricsUrl: `${balancerUrl}/balancer/stats`,
      url: balancerUrl,
    });
  }
  const notifyUrl =
    env.ALIPAY_NOTIFY_URL ?? `${balancerUrl ?? 'http://127.0.0.1:8080'}/alipay/notify`;
  for (let i = 0; i < options.workers; i++) {
    const metrics = `${loopback}:${base + 30 + i}`;
    processes.push({
      name: `worker-${i + 1}`,
      role: 'worker',
      entry: ENTRIES.worker,
      env: {
        ...env,
        ALIPAY_NOTIFY_URL: notifyUrl,
        WORKER_METRICS_ADDRESS: metrics,
        TEMPORAL_METRICS_ADDRESS: `${loopback}:${base + 40 + i}`,
      },
      readyUrl: `http://${metrics}/metrics`,
      metricsUrl: `http://${metrics}/metrics`,
    });
  }
  for (const p of processes) if (p.role !== 'worker') p.env.ALIPAY_NOTIFY_URL = notifyUrl;
  return {
    dir,
    processes,
    ...(sandboxUrl ? { sandboxUrl } : {}),
    httpUrls,
    ...(balancerUrl ? { balancerUrl } : {}),
  };
}

const pidFile = (dir: string, name: string) => path.join(dir, 'run', `${name}.pid`);

/** The PID of a running layout process, or undefined (a stale PID file does not count). */
export function pidOf(dir: string, spec: Pick<ProcessSpec, 'name' | 'entry'>): number | undefined {
  const file = pidFile(dir, spec.name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  try {
    // PIDs are reused: it must still be node running that entry.
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(spec.entry) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts one process detached (unless it runs already) and waits until it answers ready. */
export async function startProcess(
  dir: string,
  spec: ProcessSpec,
  timeoutMs = 60_000,
): Promise<number> {
  let pid = pidOf(dir, spec);
  if (pid === undefined) {
    mkdirSync(path.join(dir, 'run'), { recursive: true });
    mkdirSync(path.join(dir, 'logs'), { recursive: true });
    const log = openSync(path.join(dir, 'logs', `${spec.name}.log`), 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', spec.entry], {
      cwd: REPO,
      env: spec.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    child.unref();
    if (child.pid === undefined) throw new Error(`${spec.name}: could not spawn node`);
    pid = child.pid;
    writeFileSync(pidFile(dir, spec.name), `${pid}\n`);
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive(pid))
      throw new Error(
        `${spec.name} exited during start-up; see ${path.join(dir, 'logs', `${spec.name}.log`)}`,
      );
    const res = await fetch(spec.readyUrl, { signal: AbortSignal.timeout(2000) }).catch(
      () => undefined,
    );
    if (res?.status === 200) return pid;
    if (Date.now() > deadline)
      throw new Error(`${spec.name} not ready at ${spec.readyUrl} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` and waits for the exit (SIGKILL after `graceMs`). */
export async function stopProcess(
  dir: string,
  spec: Pick<ProcessSpec, 'name' | 'entry'>,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 20_000,
): Promise<void> {
  const pid = pidOf(dir, spec);
  if (pid !== undefined) {
    process.kill(pid, signal);
    const deadline = Date.now() + graceMs;
    while (alive(pid)) {
      if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  rmSync(pidFile(dir, spec.name), { force: true });
}

/** The sandbox first (the first CREATE needs it), then the HTTP services and workers together. */
export async function layoutUp(layout: Layout): Promise<Map<string, number>> {
  const pids = new Map<string, number>();
  const start = async (spec: ProcessSpec) =>
    pids.set(spec.name, await startProcess(layout.dir, spec));
  for (const spec of layout.processes.filter((p) => p.role === 'sandbox')) await start(spec);
  await Promise.all(layout.processes.filter((p) => p.role !== 'sandbox').map(start));
  return pids;
}

/** Balancer and HTTP services first (no new work), then workers (in-flight activities finish),
 *  sandbox last.
 *  Stops every process with a PID file in `dir`, so a smaller `up` leaves nothing behind. */
export async function layoutDown(dir: string): Promise<void> {
  const known = knownProcesses(dir);
  for (const role of ['balancer', 'http', 'worker', 'sandbox'] as const)
    await Promise.all(known.filter((p) => p.role === role).map((p) => stopProcess(dir, p)));
}

/** Every layout process with a PID file in `dir` (what `down` stops, whatever `up` was given). */
export function knownProcesses(dir: string): Array<{ name: string; role: Role; entry: string }> {
  let files: string[];
  try {
    files = readdirSync(path.join(dir, 'run'));
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith('.pid'))
    .map((f) => f.slice(0, -4))
    .flatMap((name) => {
      const role = name.replace(/-\d+$/, '') as Role;
      return role in ENTRIES ? [{ name, role, entry: ENTRIES[role] }] : [];
    });
}

/** Resident set size of a process in MiB (Linux /proc), or undefined when it is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}
