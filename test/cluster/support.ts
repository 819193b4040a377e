import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_SANDBOX_API_KEY } from '../../src/config';
import { REPO, rssMiB } from '../../scripts/lib/engine-layout';
import { temporalCliPath } from '../../scripts/lib/temporal-tools';

/**
 * What test/cluster needs around the engine: the cluster of scripts/cluster.sh (its processes,
 * the CLI against it), the merchant API and the sandbox over HTTP. Only public surfaces: the HTTP
 * API, the sandbox's HTTP endpoints and the Temporal CLI.
 */
const run = promisify(execFile);

// The same defaults and overrides as scripts/cluster.sh.
export const CLUSTER_ADDRESS = `127.0.0.1:${process.env.CLUSTER_PORT_BASE ?? 7833}`;
const CLUSTER_DATA = process.env.CLUSTER_DATA_DIR ?? path.join(REPO, '.data', 'cluster');
export const CLUSTER_SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
export type ClusterService = (typeof CLUSTER_SERVICES)[number];
const CLUSTER_RUN = path.join(CLUSTER_DATA, 'run');

/** `bash scripts/cluster.sh <args>`; its progress lines go to our stderr. */
export async function clusterSh(...args: string[]): Promise<string> {
  const child = run('bash', [path.join(REPO, 'scripts', 'cluster.sh'), ...args], {
    cwd: REPO,
    maxBuffer: 1 << 20,
  });
  child.child.stderr?.pipe(process.stderr);
  return (await child).stdout;
}

export function clusterPid(service: ClusterService): number | undefined {
  const file = path.join(CLUSTER_RUN, `${service}.pid`);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return rssMiB(pid) === undefined ? undefined : pid;
}

/** RSS (MiB) of the four services and the Web UI, and PostgreSQL's PSS summed over its processes (they share
 *  their buffers, so RSS would count those once per process). */
export async function clusterRss(): Promise<Record<string, number | undefined>> {
  const rss: Record<string, number | undefined> = {};
  for (const s of CLUSTER_SERVICES) {
    const pid = clusterPid(s);
    rss[s] = pid === undefined ? undefined : rssMiB(pid);
  }
  rss.postgres = postgresPss();
  const ui = path.join(CLUSTER_RUN, 'ui.pid');
  if (existsSync(ui)) rss['web-ui'] = rssMiB(Number(readFileSync(ui, 'utf8').trim()));
  return rss;
}

/** The Temporal CLI against the cluster; JSON output parsed. */
export async function temporalJson<T>(...args: string[]): Promise<T> {
  const { stdout } = await run(
    temporalCliPath(),
    [...args, '--address', CLUSTER_ADDRESS, '--namespace', 'default', '-o', 'json'],
    { env: { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: '1' }, maxBuffer: 16 << 20 },
  );
  return JSON.parse(stdout) as T;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not there after ${timeoutMs / 1000} s${last ? ` (${String(last)})` : ''}`,
      );
    await sleep(intervalMs);
  }
}

export interface JsonResponse<T> {
  status: number;
  json: T;
}

/** An HTTP call with a JSON body and answer (merchant API key included). */
export async function call<T>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const res = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${DEFAULT_SANDBOX_API_KEY}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(90_000),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json: json as T };
}

/** Runs `task` over `items`, `concurrency` at a time. */
export async function pool<I, O>(
  items: readonly I[],
  concurrency: number,
  task: (item: I, index: number) => Promise<O>,
): Promise<O[]> {
  const out = new Array<O>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await task(items[i] as I, i);
      }
    }),
  );
  return out;
}

/** The current GMT+8 day's midnight as an RFC 3339 string (visibility's Datetime format). */
export function gmt8Midnight(now = Date.now()): string {
  const day = new Date(now + 8 * 3600_000).toISOString().slice(0, 10);
  return `${day}T00:00:00+08:00`;
}

function postgresPss(): number | undefined {
  try {
    const postmaster = Number(
      readFileSync(path.join(CLUSTER_DATA, 'pg', 'data', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    const children = readFileSync(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    let kb = 0;
    for (const pid of [postmaster, ...children]) {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      kb += m ? Number(m[1]) : 0;
    }
    return Math.round(kb / 1024);
  } catch {
    return undefined;
  }
}
