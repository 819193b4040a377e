import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Reading V8 `.cpuprofile` files (node --cpu-prof): self time per function, summed over files. */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const ROOT = path.resolve(__dirname, '..', '..');

export interface SelfTime {
  readonly name: string;
  readonly where: string;
  readonly ms: number;
}

export interface ProfileSummary {
  /** Sampled time that was not idle, in ms. */
  readonly busyMs: number;
  readonly wallMs: number;
  readonly functions: SelfTime[];
  /** Self time by area: a package, node internals, or a folder of this repository. */
  readonly areas: { area: string; ms: number }[];
}

/**
 * A time window, counted back from the end of each profile (the process's exit), in ms: only
 * samples in it count (so start-up and shutdown stay out of the figures).
 */
export interface WindowFromEnd {
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * Functions whose samples are a thread blocked waiting for work, not CPU time: an idle piscina
 * worker (the HTTP service's QR pool) sits in `Atomics.wait` inside this loop.
 */
const BLOCKED_WAITING = new Set(['atomicsWaitLoop']);

/** Sums self time over the given profile files (e.g. every workflow thread of a worker). */
export function summarize(files: readonly string[], window?: WindowFromEnd): ProfileSummary {
  const byFunction = new Map<string, SelfTime>();
  const byArea = new Map<string, number>();
  let busy = 0;
  let wall = 0;
  for (const file of files) {
    const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const from = window ? p.endTime - window.fromMs * 1000 : -Infinity;
    const to = window ? p.endTime - window.toMs * 1000 : Infinity;
    wall = Math.max(wall, (Math.min(to, p.endTime) - Math.max(from, p.startTime)) / 1000);
    const nodes = new Map(p.nodes.map((n) => [n.id, n]));
    const self = new Map<number, number>();
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      const delta = p.timeDeltas[i] ?? 0;
      t += delta;
      if (t < from || t > to) continue;
      const id = p.samples[i] as number;
      self.set(id, (self.get(id) ?? 0) + delta / 1000);
    }
    for (const [id, ms] of self) {
      const node = nodes.get(id);
      if (!node) continue;
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === '(idle)' || BLOCKED_WAITING.has(functionName)) continue;
      busy += ms;
      const where = url ? `${shorten(url)}:${lineNumber + 1}` : '';
      const name = (functionName || '(anonymous)').slice(0, 60);
      const key = `${name} ${where}`;
      const prev = byFunction.get(key);
      byFunction.set(key, { name, where, ms: (prev?.ms ?? 0) + ms });
      const area = areaOf(url, name);
      byArea.set(area, (byArea.get(area) ?? 0) + ms);
    }
  }
  return {
    busyMs: busy,
    wallMs: wall,
    functions: [...byFunction.values()].sort((a, b) => b.ms - a.ms),
    areas: [...byArea].map(([area, ms]) => ({ area, ms })).sort((a, b) => b.ms - a.ms),
  };
}

function shorten(url: string): string {
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('node_modules/');
  if (nm >= 0) return file.slice(nm + 'node_modules/'.length);
  if (file.startsWith(ROOT)) return path.relative(ROOT, file);
  return file;
}

function areaOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const file = shorten(url);
  if (file.startsWith('@')) return file.split('/').slice(0, 2).join('/');
  if (file.startsWith('src/') || file.startsWith('bench/'))
    return file.split('/').slice(0, 2).join('/');
  if (!file.startsWith('/')) return file.split('/')[0] as string;
  // Workflow bundles are evaluated from a generated script: their URLs are bundle paths.
  return /workflow/i.test(file) ? 'workflow bundle' : file;
}
