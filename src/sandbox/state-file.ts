import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { SandboxCore } from './core';
import { SandboxError } from './errors';
import type { SavedNotification } from './notifier';
import type { QrCode } from './state/codes';
import type { IdSequences } from './state/ids';
import type { Refund, Trade } from './state/trades';

/** The format version this sandbox writes and reads. */
export const SANDBOX_STATE_VERSION = 1;

/** How long after a change the state file is written (changes meanwhile share the write). */
export const STATE_SAVE_DELAY_MS = 75;

/**
 * The sandbox's state file, version 1: what Alipay would remember across a restart. The
 * clock (host time, unless options say otherwise) and the fault script (test-time only) are
 * not part of it.
 */
export interface SandboxStateV1 {
  version: 1;
  /** When it was written, ISO 8601 (informational). */
  savedAt: string;
  /** ID counters, so no `trade_no` / `out_trade_no` is handed out twice. */
  sequences: IdSequences;
  /** Every code with its data, status (incl. DELETED) and history, oldest first. */
  codes: QrCode[];
  /** Every trade with its status fields and refund IDs, oldest first. */
  trades: Trade[];
  /** Every refund, oldest first. */
  refunds: Refund[];
  /** Every notification (its `notify_id` keeps verifying); unsettled ones are sent on. */
  notifications: SavedNotification[];
}

const bad = (path: string, message: string): never => {
  throw new SandboxError('SANDBOX_BAD_CONFIG', `sandbox state file ${path}: ${message}`);
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a state file; undefined when there is none yet. A file that is not JSON, has an
 * unknown `version` or lacks a part is refused with an error naming the file (the sandbox does
 * not start rather than forget what it was told).
 */
export function readStateFile(path: string): SandboxStateV1 | undefined {
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return bad(path, `cannot read it as JSON (${(e as Error).message})`);
  }
  if (!isObject(parsed)) return bad(path, 'expected a JSON object');
  if (parsed.version !== SANDBOX_STATE_VERSION) {
    return bad(
      path,
      `unknown version ${JSON.stringify(parsed.version)}; this sandbox reads version ${SANDBOX_STATE_VERSION} (move the file away to start empty)`,
    );
  }
  for (const key of ['codes', 'trades', 'refunds', 'notifications'] as const) {
    if (!Array.isArray(parsed[key]) || !parsed[key].every(isObject))
      bad(path, `"${key}" must be an array of objects`);
  }
  const seq = parsed.sequences;
  if (!isObject(seq) || !Number.isSafeInteger(seq.trade) || !Number.isSafeInteger(seq.buyer))
    bad(path, '"sequences" must be {"trade": integer, "buyer": integer}');
  return parsed as unknown as SandboxStateV1;
}

/** The state of `core` as a version-1 document. */
export function captureState(core: SandboxCore): SandboxStateV1 {
  return {
    version: SANDBOX_STATE_VERSION,
    savedAt: new Date().toISOString(),
    sequences: core.ids.sequences(),
    codes: core.codes.list(),
    trades: core.trades.trades(),
    refunds: core.trades.refunds(),
    notifications: core.notifier.snapshot(),
  };
}

/** Loads a saved state into a fresh core (before it serves anything). */
export function restoreState(core: SandboxCore, state: SandboxStateV1): void {
  core.ids.restore(state.sequences);
  core.codes.restore(state.codes);
  core.trades.restore(state.trades, state.refunds);
  core.notifier.restore(state.notifications);
}

/** Writes `text` to `path` atomically: a temporary file next to it, fsync, rename. */
function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
    throw e;
  }
}

/**
 * Keeps the state file current: {@link touch} after a change writes it {@link STATE_SAVE_DELAY_MS}
 * later (one write for a burst of changes), {@link close} writes it at once. Writes are
 * synchronous, so a write never overtakes another.
 */
export class StateFileWriter {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly capture: () => SandboxStateV1,
    private readonly log: (line: string) => void,
  ) {
    mkdirSync(dirname(path), { recursive: true });
  }

  /** Something changed: save soon. */
  touch(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.flush();
      } catch (e) {
        this.log(`cannot save the sandbox state to ${this.path}: ${(e as Error).message}`);
      }
    }, STATE_SAVE_DELAY_MS);
    this.timer.unref();
  }

  /** Saves now; throws when the file cannot be written. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    writeAtomically(this.path, `${JSON.stringify(this.capture())}\n`);
  }

  /** Saves a last time (unless `save` is false) and ignores later changes. Idempotent. */
  close(save = true): void {
    if (this.closed) return;
    this.closed = true;
    if (save) this.flush();
    else if (this.timer) clearTimeout(this.timer);
  }
}
