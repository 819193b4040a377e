import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * Child processes of a benchmark: the engine's worker and HTTP service, the sandbox and the bare
 * worker each run in their own process, so the load generator (the benchmark's own process)
 * never shares an event loop or a core's time slice accounting with what it measures.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const children = new Set<ChildProcess>();

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  /** Wall-clock time (ms) the process exited; undefined while it runs. */
  readonly exitedAt: number | undefined;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  readonly name: string;
  /** A TypeScript file, relative to the repository root. */
  readonly script: string;
  readonly args?: readonly string[];
  readonly env: Record<string, string>;
  /** Extra node flags (e.g. `--cpu-prof`). */
  readonly nodeFlags?: readonly string[];
  readonly logDir: string;
  /** The child is ready once a stdout line contains this text. */
  readonly readyText: string;
  readonly readyTimeoutMs?: number;
  readonly cwd?: string;
}

/** Starts `node --import tsx <script>` and waits until it prints `readyText`. */
export async function spawnTs(o: SpawnOptions): Promise<Child & { readyLine: string }> {
  const logFile = path.join(o.logDir, `${o.name}.log`);
  // The child writes straight to its log file: no pipe through this (load generating) process.
  const fd = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [...(o.nodeFlags ?? []), '--import', 'tsx', path.resolve(ROOT, o.script), ...(o.args ?? [])],
    {
      cwd: o.cwd ?? ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...o.env },
      stdio: ['ignore', fd, fd],
    },
  );
  closeSync(fd);
  children.add(child);
  let exited = false;
  let exitedAt: number | undefined;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      exitedAt = Date.now();
      children.delete(child);
      resolve();
    }),
  );
  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
  let readyLine: string | undefined;
  while (readyLine === undefined) {
    if (exited) throw new Error(`${o.name} exited during start-up:\n${tail(logFile)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${o.name} not ready in time; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
    readyLine = readFileSync(logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes(o.readyText));
  }
  return {
    name: o.name,
    process: child,
    pid: child.pid as number,
    logFile,
    readyLine,
    get exitedAt() {
      return exitedAt;
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Adds a process started elsewhere (the Temporal dev server) to those killed on errors and Ctrl-C. */
export function track(child: ChildProcess): void {
  if (child.exitCode !== null) return;
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Kills every child still running (by its own pid): used on errors and Ctrl-C. */
export function killAllChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllChildren();
    process.exit(130);
  });
}
process.once('exit', killAllChildren);

/** A free loopback TCP port (the OS picks; released before use, so a race is possible but rare). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resident set size of a process and all its descendants, in bytes (Linux /proc). */
export function treeRssBytes(pid: number): number {
  const kids = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = kids.get(ppid) ?? [];
      list.push(Number(entry));
      kids.set(ppid, list);
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop() as number;
    total += rssBytes(p);
    stack.push(...(kids.get(p) ?? []));
  }
  return total;
}

/** VmRSS of one process in bytes; 0 when it is gone. */
export function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU time (user + system) a process has used so far, in seconds (Linux /proc); 0 when gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command name).
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** USER_HZ: 100 on every Linux this runs on (`getconf CLK_TCK`). */
const CLOCK_TICKS = 100;
