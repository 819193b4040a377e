import { execFileSync } from 'node:child_process';
import path from 'node:path';

const SCRIPT = path.resolve(__dirname, '..', 'temporal-tools.sh');
const cache = new Map<string, string>();

function resolveTool(kind: 'cli' | 'test-server'): string {
  const known = cache.get(kind);
  if (known) return known;
  // stderr is inherited so a first-time install shows its progress and any one-line error.
  const found = execFileSync('bash', [SCRIPT, kind], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  cache.set(kind, found);
  return found;
}

/** Path of the Temporal CLI (dev server), obtained and cached by scripts/temporal-tools.sh. */
export const temporalCliPath = (): string => resolveTool('cli');

/** Path of the time-skipping test server, obtained and cached by scripts/temporal-tools.sh. */
export const testServerPath = (): string => resolveTool('test-server');
