import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Agent, request } from 'undici';
import type { SandboxClock } from './clock';
import type { FaultBook, NotificationFault } from './faults';
import { forgedCopy } from './notification-body';

/** One POST of a notification (or a copy of it) to the merchant. */
export interface DeliveryAttempt {
  /** 1-based number of the scheduled delivery this POST belongs to. */
  readonly attempt: number;
  /** `genuine`, a `duplicate` copy, a `forged` copy, or `dropped` (scheduled but never sent). */
  readonly kind: 'genuine' | 'duplicate' | 'forged' | 'dropped';
  /** Sandbox time of the POST. */
  readonly at: number;
  status?: number;
  /** First 200 characters of the merchant's answer. */
  response?: string;
  error?: string;
  /** True when the merchant answered exactly `success`. */
  acknowledged: boolean;
  durationMs?: number;
}

/** Where a notification stands. */
export type NotificationState =
  'scheduled' | 'held' | 'delivering' | 'delivered' | 'exhausted' | 'dropped';

/** A payment notification and its deliveries, as listed by `GET /sandbox/notifications`. */
export interface NotificationRecord {
  readonly notifyId: string;
  readonly partner: string;
  readonly tradeNo: string;
  readonly outTradeNo: string;
  readonly url: string;
  /** The signed form fields, as sent. */
  readonly fields: Readonly<Record<string, string>>;
  /** The form body as sent (ASCII: every non-ASCII byte is percent-escaped). */
  readonly body: string;
  readonly fault: NotificationFault | undefined;
  readonly createdAt: number;
  state: NotificationState;
  /** Sandbox time of the next scheduled delivery, while one is pending. */
  nextAttemptAt: number | undefined;
  readonly attempts: DeliveryAttempt[];
}

/** A notification ready to send: signed fields, body bytes and a forged variant. */
export interface OutgoingNotification {
  notifyId: string;
  partner: string;
  tradeNo: string;
  outTradeNo: string;
  url: string;
  fields: Record<string, string>;
  body: Buffer;
  contentType: string;
  /** The same notification with a forged signature and an unknown `notify_id`. */
  forgedBody: () => Buffer;
}

/**
 * A notification as kept in the state file: the record, plus the content type of its body
 * while deliveries are still due (the body itself is `record.body`).
 */
export interface SavedNotification extends NotificationRecord {
  readonly contentType?: string;
}

const FINAL_STATES: ReadonlySet<NotificationState> = new Set(['delivered', 'exhausted', 'dropped']);

/** Settings of the delivery schedule. */
export interface NotifierOptions {
  clock: SandboxClock;
  faults: FaultBook;
  /** Real milliseconds per sandbox millisecond of schedule (1 = real time, 0.001 = 1000x faster). */
  timeScale: number;
  /** Gaps between deliveries, sandbox milliseconds (MAPI.md §12.2). */
  retryGapsMs: readonly number[];
  /** Per-POST timeout, real milliseconds. */
  timeoutMs: number;
  log: (line: string) => void;
}

const DEFAULT_REORDER_HOLD_MS = 5_000;

/** A `notify_id`-shaped random value (String(34), hex). */
const randomHexId = (): string => randomBytes(17).toString('hex');

/**
 * Sends payment notifications the way Alipay does: an immediate POST, then re-sends on
 * Alipay's schedule until the merchant answers exactly `success` or the schedule is used up,
 * with the notification faults of the sandbox's script applied.
 */
export class Notifier {
  private readonly records = new Map<string, NotificationRecord>();
  private readonly pending = new Map<
    string,
    { body: Buffer; contentType: string; forged: () => Buffer }
  >();
  /** The pending delivery timer of each scheduled notification. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inflight = new Set<AbortController>();
  private readonly held: { record: NotificationRecord; timer: NodeJS.Timeout }[] = [];
  private readonly events = new EventEmitter();
  private readonly agent: Agent;
  private closed = false;

  constructor(private readonly options: NotifierOptions) {
    this.agent = new Agent({
      connectTimeout: options.timeoutMs,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    this.events.setMaxListeners(0);
  }

  /** Starts delivering `n` (first POST right away unless a fault delays, holds or drops it). */
  send(n: OutgoingNotification): NotificationRecord {
    const fault = this.options.faults.takeForNotification(n.partner);
    const record: NotificationRecord = {
      notifyId: n.notifyId,
      partner: n.partner,
      tradeNo: n.tradeNo,
      outTradeNo: n.outTradeNo,
      url: n.url,
      fields: n.fields,
      body: n.body.toString('latin1'),
      fault,
      createdAt: this.options.clock.now(),
      state: 'scheduled',
      nextAttemptAt: undefined,
      attempts: [],
    };
    this.records.set(n.notifyId, record);
    this.pending.set(n.notifyId, {
      body: n.body,
      contentType: n.contentType,
      forged: n.forgedBody,
    });
    if (fault?.kind === 'drop' && fault.attempts === undefined) {
      record.state = 'dropped';
      this.finish(record);
    } else if (fault?.kind === 'reorder') {
      record.state = 'held';
      const timer = setTimeout(() => this.release(record), fault.ms ?? DEFAULT_REORDER_HOLD_MS);
      timer.unref();
      this.held.push({ record, timer });
    } else {
      this.schedule(record, 1, fault?.kind === 'delay' ? fault.ms : 0, true);
    }
    this.changed(record);
    return record;
  }

  /** A notification by `notify_id`. */
  get(notifyId: string): NotificationRecord | undefined {
    return this.records.get(notifyId);
  }

  /** Every notification, oldest first. */
  list(): NotificationRecord[] {
    return [...this.records.values()];
  }

  /** True when `notifyId` was issued to `partner` (forged copies never are): `notify_verify`. */
  isGenuine(partner: string, notifyId: string): boolean {
    return this.records.get(notifyId)?.partner === partner;
  }

  /** Sends the next delivery of a pending notification now instead of waiting for its timer. */
  retryNow(notifyId: string): boolean {
    const record = this.records.get(notifyId);
    if (!record || (record.state !== 'scheduled' && record.state !== 'held')) return false;
    const next =
      record.attempts.filter((a) => a.kind === 'genuine' || a.kind === 'dropped').length + 1;
    this.cancelTimersOf(record);
    this.schedule(record, next, 0, true);
    return true;
  }

  /**
   * Resolves with the record once `notifyId` reaches a final state (delivered, exhausted,
   * dropped), or rejects after `timeoutMs` real milliseconds.
   */
  settled(notifyId: string, timeoutMs = 10_000): Promise<NotificationRecord> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const r = this.records.get(notifyId);
        if (r && (r.state === 'delivered' || r.state === 'exhausted' || r.state === 'dropped')) {
          done();
          resolve(r);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`notification ${notifyId} not settled after ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.events.off('change', check);
      };
      this.events.on('change', check);
      check();
    });
  }

  /** Every notification for the state file; pending ones carry what it takes to send them. */
  snapshot(): SavedNotification[] {
    return this.list().map((record) => {
      const pending = this.pending.get(record.notifyId);
      return pending ? { ...record, contentType: pending.contentType } : { ...record };
    });
  }

  /**
   * Takes over the notifications of an earlier sandbox: every `notify_id` verifies again, and
   * those not yet settled continue their schedule. The next delivery is due at its saved
   * `nextAttemptAt` (at once when that has passed; sandbox time, scaled like any gap); a
   * delivery that was in flight when the earlier sandbox stopped counts as failed, and a held
   * (`reorder`) one goes out at once.
   */
  restore(saved: readonly SavedNotification[]): void {
    const now = this.options.clock.now();
    for (const { contentType, ...fields } of saved) {
      const record: NotificationRecord = { ...fields, attempts: [...(fields.attempts ?? [])] };
      for (const a of record.attempts) {
        if (a.kind !== 'dropped' && a.status === undefined && a.error === undefined)
          a.error = 'interrupted: the sandbox stopped';
      }
      this.records.set(record.notifyId, record);
      if (FINAL_STATES.has(record.state)) {
        record.nextAttemptAt = undefined;
        continue;
      }
      const type = contentType ?? 'application/x-www-form-urlencoded; charset=UTF-8';
      this.pending.set(record.notifyId, {
        body: Buffer.from(record.body, 'latin1'),
        contentType: type,
        forged: () => forgedCopy(record.fields, type, randomHexId()),
      });
      const last = record.attempts.reduce((max, a) => Math.max(max, a.attempt), 0);
      let attempt: number;
      let dueAt: number;
      if (record.state === 'delivering' && last > 0) {
        const lastAt = Math.max(
          ...record.attempts.filter((a) => a.attempt === last).map((a) => a.at),
        );
        if (last > this.options.retryGapsMs.length) {
          record.state = 'exhausted';
          this.finish(record);
          continue;
        }
        attempt = last + 1;
        dueAt = lastAt + this.options.retryGapsMs[last - 1]!;
      } else if (record.state === 'scheduled' && last > 0) {
        attempt = last + 1;
        dueAt = record.nextAttemptAt ?? now;
      } else {
        attempt = 1;
        dueAt = record.state === 'scheduled' ? (record.nextAttemptAt ?? now) : now;
      }
      this.schedule(record, attempt, Math.max(0, dueAt - now), false);
    }
  }

  /** Subscribes to every change of every notification; returns the unsubscribe function. */
  onChange(listener: (record: NotificationRecord) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  /** Stops all timers and in-flight POSTs; nothing is sent afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const h of this.held.splice(0)) clearTimeout(h.timer);
    for (const c of this.inflight) c.abort();
    await this.agent.destroy();
  }

  // --- internals -------------------------------------------------------------------------

  private changed(record: NotificationRecord): void {
    this.events.emit('change', record);
  }

  private finish(record: NotificationRecord): void {
    record.nextAttemptAt = undefined;
    this.pending.delete(record.notifyId);
    this.changed(record);
  }

  /** Schedules delivery number `attempt` after `delayMs`: schedule time (scaled), or real ms when `realDelay`. */
  private schedule(
    record: NotificationRecord,
    attempt: number,
    delayMs: number,
    realDelay: boolean,
  ): void {
    if (this.closed) return;
    const realMs = realDelay ? delayMs : Math.round(delayMs * this.options.timeScale);
    record.state = 'scheduled';
    record.nextAttemptAt = this.options.clock.now() + delayMs;
    const timer = setTimeout(() => {
      this.timers.delete(record.notifyId);
      void this.deliver(record, attempt);
    }, realMs);
    timer.unref();
    this.timers.set(record.notifyId, timer);
  }

  private cancelTimersOf(record: NotificationRecord): void {
    const timer = this.timers.get(record.notifyId);
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(record.notifyId);
    }
    const at = this.held.findIndex((h) => h.record === record);
    if (at >= 0) {
      clearTimeout(this.held[at]!.timer);
      this.held.splice(at, 1);
    }
  }

  private release(record: NotificationRecord): void {
    const at = this.held.findIndex((h) => h.record === record);
    if (at < 0) return;
    clearTimeout(this.held[at]!.timer);
    this.held.splice(at, 1);
    this.schedule(record, 1, 0, true);
  }

  private async deliver(record: NotificationRecord, attempt: number): Promise<void> {
    const outgoing = this.pending.get(record.notifyId);
    if (this.closed || !outgoing) return;
    record.state = 'delivering';
    record.nextAttemptAt = undefined;
    const fault = record.fault;
    let acknowledged = false;
    if (fault?.kind === 'drop' && attempt <= (fault.attempts ?? Infinity)) {
      record.attempts.push({
        attempt,
        kind: 'dropped',
        at: this.options.clock.now(),
        acknowledged: false,
      });
    } else {
      if (fault?.kind === 'forge' && attempt === 1) {
        await this.post(record, attempt, 'forged', outgoing.forged(), outgoing.contentType);
      }
      const copies = fault?.kind === 'duplicate' ? Math.max(1, fault.copies ?? 2) : 1;
      const results = await Promise.all(
        Array.from({ length: copies }, (_, i) =>
          this.post(
            record,
            attempt,
            i === 0 ? 'genuine' : 'duplicate',
            outgoing.body,
            outgoing.contentType,
          ),
        ),
      );
      acknowledged = results.some(Boolean);
    }
    if (this.closed) return;
    if (attempt === 1) this.releaseHeldOthers(record);
    if (acknowledged) {
      record.state = 'delivered';
      this.finish(record);
    } else if (attempt <= this.options.retryGapsMs.length) {
      this.schedule(record, attempt + 1, this.options.retryGapsMs[attempt - 1]!, false);
      this.changed(record);
    } else {
      record.state = 'exhausted';
      this.options.log(
        `notification ${record.notifyId} not acknowledged after ${attempt} deliveries`,
      );
      this.finish(record);
    }
  }

  /** A reordered notification goes out right after the next other one's first delivery. */
  private releaseHeldOthers(record: NotificationRecord): void {
    for (const h of [...this.held]) if (h.record !== record) this.release(h.record);
  }

  private async post(
    record: NotificationRecord,
    attempt: number,
    kind: DeliveryAttempt['kind'],
    body: Buffer,
    contentType: string,
  ): Promise<boolean> {
    const entry: DeliveryAttempt = {
      attempt,
      kind,
      at: this.options.clock.now(),
      acknowledged: false,
    };
    record.attempts.push(entry);
    const abort = new AbortController();
    this.inflight.add(abort);
    const started = performance.now();
    try {
      const res = await request(record.url, {
        method: 'POST',
        body,
        headers: { 'content-type': contentType },
        dispatcher: this.agent,
        signal: abort.signal,
      });
      const text = await res.body.text();
      entry.status = res.statusCode;
      entry.response = text.slice(0, 200);
      entry.acknowledged = res.statusCode >= 200 && res.statusCode < 300 && text === 'success';
    } catch (e) {
      entry.error = e instanceof Error ? e.message : String(e);
    } finally {
      entry.durationMs = Math.round(performance.now() - started);
      this.inflight.delete(abort);
    }
    const outcome =
      entry.error ?? `HTTP ${entry.status} ${JSON.stringify(entry.response?.slice(0, 40))}`;
    this.options.log(
      `notify ${record.notifyId} #${attempt}${kind === 'genuine' ? '' : ` (${kind})`} -> ${outcome}`,
    );
    this.changed(record);
    return entry.acknowledged && kind !== 'forged';
  }
}
