import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type LabelValues,
} from 'prom-client';
import type { GatewayCallRecord } from '../alipay';
import type { ReconciliationReport } from '../workflows/reconciliation-types';

/**
 * The engine's Prometheus metrics, in one registry of its own (not prom-client's global one, so
 * each instance, and each test, starts from zero). Every recording method is synchronous and
 * never throws: a metric must not break a payment or an acknowledgement.
 *
 * One scrape (`GET /metrics` → {@link EngineMetrics.render}) returns the engine's families
 * (`alipay_engine_*`, process and Node.js metrics included) followed by the Temporal Core
 * runtime's own exporter text (`temporal_*`, see `installRuntime` in ./runtime.ts).
 */

/** Construction options of {@link EngineMetrics}. */
export interface EngineMetricsOptions {
  /**
   * The Temporal Core runtime's Prometheus exporter (e.g. `http://127.0.0.1:9464/metrics`, the
   * URL `installRuntime` returns). Fetched on every render; omitted: engine metrics only.
   */
  readonly runtimeMetricsUrl?: string;
  /**
   * Counts payments by status (e.g. a Visibility count query grouped by `PaymentStatus`).
   * Omitted: no `alipay_engine_payments` gauge.
   */
  readonly countPaymentsByStatus?: () => Promise<Record<string, number>>;
  /** How long a payments count is reused, so scrapes do not hammer Visibility. Default 15 s. */
  readonly paymentsCacheMs?: number;
}

/** Whose REFUND it was: the merchant's, or the full refund of an automatic reversal. */
export type RefundKind = 'merchant' | 'reversal';

const PREFIX = 'alipay_engine_';
/** How long a render waits for the Temporal runtime's exporter. */
const RUNTIME_FETCH_TIMEOUT_MS = 2000;
/** How long a payments count may take before the scrape goes on with the last values. */
const PAYMENTS_COUNT_TIMEOUT_MS = 5000;
const DEFAULT_PAYMENTS_CACHE_MS = 15_000;
/** Longest label value kept; callers pass codes and route templates, never free text. */
const MAX_LABEL = 64;

// Gateway calls: read timeouts are seconds long, and the activity's start-to-close is 30 s.
const GATEWAY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30];
// Notification acknowledgement: a signal to Temporal, normally well under a second.
const ACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Engine counters and histograms, plus the scrape text. Build once per process. */
export class EngineMetrics {
  /** This instance's registry (engine and default process metrics). */
  readonly registry: Registry;
  /** The `Content-Type` of {@link render}'s text (Prometheus text format 0.0.4). */
  readonly contentType: string;

  readonly #runtimeMetricsUrl: string | undefined;
  readonly #notificationsReceived: Counter;
  readonly #notificationsVerified: Counter;
  readonly #notificationsRejected: Counter<'reason'>;
  readonly #notificationsFailed: Counter<'reason'>;
  readonly #notificationAck: Histogram;
  readonly #gatewayCalls: Counter<'service' | 'outcome'>;
  readonly #gatewaySeconds: Histogram<'service'>;
  readonly #refunds: Counter<'kind' | 'outcome'>;
  readonly #cancels: Counter<'outcome'>;
  readonly #httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly #httpSeconds: Histogram<'route' | 'method'>;
  readonly #collectErrors: Counter<'source'>;
  readonly #reconRuns: Counter<'status'>;
  readonly #reconRecords: Counter<'outcome'>;
  readonly #reconDiscrepancies: Gauge<'kind'>;
  readonly #reconDiscrepanciesFound: Counter<'kind'>;
  readonly #reconActions: Counter<'kind' | 'result'>;
  readonly #reconLastDay: Gauge<'status'>;
  readonly #reconAlerts: Counter<'reason'>;

  constructor(options: EngineMetricsOptions = {}) {
    this.registry = new Registry();
    const registers = [this.registry];
    this.contentType = this.registry.contentType;
    this.#runtimeMetricsUrl = options.runtimeMetricsUrl;
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });

    this.#notificationsReceived = new Counter({
      name: `${PREFIX}notifications_received_total`,
      help: 'Payment notifications received (any body, before verification).',
      registers,
    });
    this.#notificationsVerified = new Counter({
      name: `${PREFIX}notifications_verified_total`,
      help: 'Payment notifications whose signature and partner verified.',
      registers,
    });
    this.#notificationsRejected = new Counter({
      name: `${PREFIX}notifications_rejected_total`,
      help: 'Payment notifications refused before Temporal, by reason (BAD_SIGNATURE, MALFORMED, TOO_LARGE, WRONG_PARTNER, ...).',
      labelNames: ['reason'],
      registers,
    });
    this.#notificationsFailed = new Counter({
      name: `${PREFIX}notifications_failed_total`,
      help: 'Verified notifications answered non-success because Temporal did not accept them, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.#notificationAck = new Histogram({
      name: `${PREFIX}notification_ack_seconds`,
      help: 'Time from receiving a notification to answering success.',
      buckets: ACK_BUCKETS,
      registers,
    });
    this.#gatewayCalls = new Counter({
      name: `${PREFIX}gateway_calls_total`,
      help: 'Alipay gateway calls by service (QUERY, CANCEL, REFUND, CREATE, MODIFY, MODIFYSTATUS, NOTIFY_VERIFY) and outcome (ok or the error code).',
      labelNames: ['service', 'outcome'],
      registers,
    });
    this.#gatewaySeconds = new Histogram({
      name: `${PREFIX}gateway_call_seconds`,
      help: 'Alipay gateway call latency by service, failures included.',
      labelNames: ['service'],
      buckets: GATEWAY_BUCKETS,
      registers,
    });
    this.#refunds = new Counter({
      name: `${PREFIX}refunds_total`,
      help: 'REFUND activity attempts by kind (merchant, reversal) and outcome (SUCCEEDED, FAILED, UNKNOWN final; RETRY, CANCELLED per attempt).',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.#cancels = new Counter({
      name: `${PREFIX}cancels_total`,
      help: 'CANCEL activity attempts (reversals and merchant cancels) by outcome (SUCCEEDED, FAILED, UNKNOWN final; RETRY, CANCELLED per attempt).',
      labelNames: ['outcome'],
      registers,
    });
    this.#httpRequests = new Counter({
      name: `${PREFIX}http_requests_total`,
      help: 'HTTP requests served, by route template, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.#httpSeconds = new Histogram({
      name: `${PREFIX}http_request_seconds`,
      help: 'HTTP request duration by route template and method.',
      labelNames: ['route', 'method'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    // Reconciliation: named as the issue asks (alipay_reconciliation_*), one family per question.
    this.#reconRuns = new Counter({
      name: 'alipay_reconciliation_runs_total',
      help: 'Finished reconciliation days by status (RECONCILED, FILE_MISSING, FILE_REFUSED).',
      labelNames: ['status'],
      registers,
    });
    this.#reconRecords = new Counter({
      name: 'alipay_reconciliation_records_total',
      help: 'Transaction-file records compared, by outcome (MATCHED, RECOVERED, SETTLED, IN_PROGRESS, DISCREPANCY).',
      labelNames: ['outcome'],
      registers,
    });
    this.#reconDiscrepancies = new Gauge({
      name: 'alipay_reconciliation_discrepancies',
      help: 'Discrepancies of the last reconciled day, by kind (AMOUNT_MISMATCH, MISSING_FROM_FILE, ...).',
      labelNames: ['kind'],
      registers,
    });
    this.#reconDiscrepanciesFound = new Counter({
      name: 'alipay_reconciliation_discrepancies_found_total',
      help: 'Discrepancies listed by reconciliation runs, by kind (a day run twice counts twice).',
      labelNames: ['kind'],
      registers,
    });
    this.#reconActions = new Counter({
      name: 'alipay_reconciliation_actions_total',
      help: 'What reconciliation changed: START_PAYMENT (found only in the file) or SETTLE (resolved from the file), by result.',
      labelNames: ['kind', 'result'],
      registers,
    });
    this.#reconLastDay = new Gauge({
      name: 'alipay_reconciliation_last_run_timestamp_seconds',
      help: 'When a reconciliation day last finished, by status.',
      labelNames: ['status'],
      registers,
    });
    this.#reconAlerts = new Counter({
      name: 'alipay_reconciliation_alerts_total',
      help: 'Days that need people: files missing after the deadline, or refused as malformed.',
      labelNames: ['reason'],
      registers,
    });
    const payments = options.countPaymentsByStatus
      ? new PaymentsByStatus(
          options.countPaymentsByStatus,
          options.paymentsCacheMs ?? DEFAULT_PAYMENTS_CACHE_MS,
          () => safely(() => this.#collectErrors.inc({ source: 'payments' })),
        )
      : undefined;
    this.#collectErrors = new Counter({
      name: `${PREFIX}metrics_collect_errors_total`,
      help: 'Failures while gathering metrics for a scrape, by source (payments, temporal_runtime).',
      labelNames: ['source'],
      registers,
      // Waits for the payments count this scrape is doing, so its failure shows in the same scrape.
      async collect() {
        await payments?.current();
      },
    });
    if (payments) {
      new Gauge({
        name: `${PREFIX}payments`,
        help: 'Payments by status (a cached count; see alipay_engine_metrics_collect_errors_total{source="payments"}).',
        labelNames: ['status'],
        registers,
        async collect() {
          for (const [status, count] of await payments.current())
            this.set({ status: label(status) }, count);
        },
      });
    }
  }

  /** A notification request arrived (count it before reading the body). */
  notificationReceived(): void {
    safely(() => this.#notificationsReceived.inc());
  }

  /** A notification's signature and partner verified. */
  notificationVerified(): void {
    safely(() => this.#notificationsVerified.inc());
  }

  /** A notification was refused before Temporal; `reason` is a short code (`BAD_SIGNATURE`, …). */
  notificationRejected(reason: string): void {
    safely(() => this.#notificationsRejected.inc({ reason: label(reason) }));
  }

  /** A notification was answered `success`, `seconds` after it arrived. */
  notificationAcknowledged(seconds: number): void {
    safely(() => observe(this.#notificationAck, {}, seconds));
  }

  /** A verified notification was answered non-success: Temporal did not accept it. */
  notificationFailed(reason: string): void {
    safely(() => this.#notificationsFailed.inc({ reason: label(reason) }));
  }

  /** One gateway call: counter by service and outcome, latency by service. */
  gatewayCall(service: string, outcome: string, seconds: number): void {
    safely(() => {
      this.#gatewayCalls.inc({ service: label(service), outcome: label(outcome) });
      observe(this.#gatewaySeconds, { service: label(service) }, seconds);
    });
  }

  /** The gateway observer (`GatewayDeps.observe`) that feeds {@link gatewayCall}. */
  readonly observeGateway = (call: GatewayCallRecord): void =>
    this.gatewayCall(call.service, call.outcome, call.seconds);

  /** A REFUND activity attempt ended (see `ActivityMetrics` for the outcomes). */
  refund(outcome: string, kind: RefundKind): void {
    safely(() => this.#refunds.inc({ kind: label(kind), outcome: label(outcome) }));
  }

  /** A CANCEL activity attempt ended (see `ActivityMetrics` for the outcomes). */
  cancel(outcome: string): void {
    safely(() => this.#cancels.inc({ outcome: label(outcome) }));
  }

  /** One HTTP request: pass the route template (`/payments/:id`), never the raw URL. */
  httpRequest(route: string, method: string, status: number, seconds: number): void {
    safely(() => {
      const r = label(route);
      const m = label(String(method).toUpperCase());
      this.#httpRequests.inc({ route: r, method: m, status: String(status) });
      observe(this.#httpSeconds, { route: r, method: m }, seconds);
    });
  }

  /** A reconciliation day finished: its counts, discrepancies and actions. */
  reconciliation(report: ReconciliationReport): void {
    safely(() => {
      this.#reconRuns.inc({ status: label(report.status) });
      this.#reconLastDay.set(
        { status: label(report.status) },
        (report.finishedAt ?? Date.now()) / 1000,
      );
      if (report.status === 'FILE_MISSING' || report.status === 'FILE_REFUSED')
        this.#reconAlerts.inc({ reason: report.status });
      if (report.status !== 'RECONCILED') return;
      for (const [outcome, n] of Object.entries(report.counts))
        if (n > 0) this.#reconRecords.inc({ outcome: label(outcome) }, n);
      this.#reconDiscrepancies.reset();
      for (const [kind, n] of Object.entries(report.discrepancyCounts)) {
        this.#reconDiscrepancies.set({ kind: label(kind) }, n ?? 0);
        this.#reconDiscrepanciesFound.inc({ kind: label(kind) }, n ?? 0);
      }
      for (const a of report.actions)
        this.#reconActions.inc({ kind: label(a.kind), result: label(a.result) });
    });
  }

  /**
   * The scrape text: this registry, then the Temporal runtime's exporter text (2 s timeout). If
   * the runtime cannot be read, a comment line says why instead; the scrape still succeeds.
   */
  async render(): Promise<string> {
    if (this.#runtimeMetricsUrl === undefined) return this.registry.metrics();
    // The runtime first, so that its failure is counted in this very scrape.
    const runtime = await fetchRuntimeText(this.#runtimeMetricsUrl);
    if (!runtime.ok) safely(() => this.#collectErrors.inc({ source: 'temporal_runtime' }));
    const engine = await this.registry.metrics();
    return joinExposition(
      engine,
      runtime.ok ? runtime.text : `# temporal runtime metrics unavailable: ${runtime.reason}\n`,
    );
  }
}

/** The cached payments-by-status count behind the `alipay_engine_payments` gauge. */
class PaymentsByStatus {
  #values = new Map<string, number>();
  #fetchedAt = -Infinity;
  #inFlight: Promise<void> | undefined;

  constructor(
    private readonly count: () => Promise<Record<string, number>>,
    private readonly cacheMs: number,
    private readonly onError: () => void,
  ) {}

  /**
   * The counts, refreshed at most once per cache period (a failed refresh waits a period too,
   * keeping the last values). A status seen before and missing now reads 0.
   */
  async current(): Promise<ReadonlyMap<string, number>> {
    if (!this.#inFlight && performance.now() - this.#fetchedAt >= this.cacheMs)
      this.#inFlight = this.#refresh().finally(() => (this.#inFlight = undefined));
    if (this.#inFlight) await this.#inFlight;
    return this.#values;
  }

  async #refresh(): Promise<void> {
    this.#fetchedAt = performance.now();
    try {
      const counts = await withTimeout(this.count(), PAYMENTS_COUNT_TIMEOUT_MS);
      const next = new Map<string, number>();
      for (const status of this.#values.keys()) next.set(status, 0);
      for (const [status, n] of Object.entries(counts ?? {})) {
        if (typeof n === 'number' && Number.isFinite(n)) next.set(status, n);
      }
      this.#values = next;
    } catch {
      this.onError();
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

type RuntimeText = { ok: true; text: string } | { ok: false; reason: string };

/** GET the runtime exporter's text; never rejects. */
async function fetchRuntimeText(url: string): Promise<RuntimeText> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(RUNTIME_FETCH_TIMEOUT_MS) });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: false, reason: `HTTP ${res.status}` };
    }
    return { ok: true, text: await res.text() };
  } catch (err) {
    return { ok: false, reason: shortReason(err) };
  }
}

function shortReason(err: unknown): string {
  const name = (err as { name?: unknown } | undefined)?.name;
  if (name === 'TimeoutError') return `no answer in ${RUNTIME_FETCH_TIMEOUT_MS} ms`;
  const code = (err as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  if (typeof code === 'string') return code;
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/[\r\n]+/g, ' ').slice(0, 120);
}

/**
 * Engine text + runtime text as one valid exposition: the runtime's lines for any `alipay_engine_`
 * family (there should be none: Core prefixes with `temporal_`) and an OpenMetrics `# EOF` are
 * dropped, so no family appears twice.
 */
export function joinExposition(engine: string, runtime: string): string {
  const kept = runtime
    .split('\n')
    .filter((line) => line !== '' && line !== '# EOF' && !familyOf(line).startsWith(PREFIX));
  const head = engine === '' || engine.endsWith('\n') ? engine : `${engine}\n`;
  return kept.length ? `${head}${kept.join('\n')}\n` : head;
}

/** The metric name a sample, `# HELP` or `# TYPE` line is about ('' for other comments). */
function familyOf(line: string): string {
  const meta = /^# (?:HELP|TYPE) (\S+)/.exec(line);
  if (meta) return meta[1] as string;
  if (line.startsWith('#')) return '';
  return /^[^\s{]+/.exec(line)?.[0] ?? '';
}

function observe<T extends string>(
  histogram: Histogram<T>,
  labels: LabelValues<T>,
  seconds: number,
): void {
  if (Number.isFinite(seconds) && seconds >= 0) histogram.observe(labels, seconds);
}

function label(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return text === '' ? 'unknown' : text.slice(0, MAX_LABEL);
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // Metrics are best effort: never in the way of the work they measure.
  }
}
