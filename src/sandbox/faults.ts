import { badRequest } from './errors';
import { resolveServiceTarget, type ServiceTarget } from './service-names';

/**
 * Faults the sandbox can inject into a `gateway.do` call. Each one reproduces a way a real
 * call can end that the engine must classify (MAPI.md §13.3).
 */
export type GatewayFault =
  /** Accept the connection, never answer; the socket is destroyed after `ms` (or at close). `apply` processes the call first. */
  | { kind: 'hang'; ms?: number; apply?: boolean }
  /** Destroy the connection without an answer and without processing the call. */
  | { kind: 'reset' }
  /** Process the call (state changes), then destroy the connection: the answer is lost. */
  | { kind: 'lost-answer' }
  /** Wait `ms` (real time), then process and answer normally (processed even if the client left). */
  | { kind: 'slow'; ms: number }
  /** Answer with an HTTP error status (default 502) without processing. */
  | { kind: 'http-error'; status?: number; body?: string }
  /** Answer 200 with a body that is not MAPI XML (an HTML error page by default). */
  | { kind: 'non-xml'; body?: string; contentType?: string }
  /** `is_success=F` with `error=SYSTEM_ERROR`; nothing is processed. */
  | { kind: 'system-error' }
  /** `result_code=UNKNOWN` in a signed business node; `apply` processes the call first. */
  | { kind: 'unknown'; apply?: boolean }
  /** `result_code=FAIL` with the given business `error` (and CANCEL's `retry_flag`); `apply` processes the call first. */
  | { kind: 'fail'; error: string; retryFlag?: 'Y' | 'N'; apply?: boolean }
  /**
   * A genuinely signed answer that belongs to another request, behind this request's
   * `<request>` echo (the echo is not signed: MAPI signs the business node only). `from`
   * (short name, default `QUERY`): `QUERY` answers a fresh QUERY of the call's trade, or of
   * `outTradeNo`; any other service replays the last genuine answer this sandbox gave to a call
   * of that service (e.g. an older REFUND's). `apply` processes the call first: money moves,
   * and the client reads somebody else's answer.
   */
  | { kind: 'foreign-answer'; from?: string; outTradeNo?: string; apply?: boolean };

/** Faults the sandbox can inject into the delivery of one payment notification. */
export type NotificationFault =
  /** Drop the first `attempts` deliveries (default: all of them, the notification never arrives). */
  | { kind: 'drop'; attempts?: number }
  /** Send every delivery `copies` times (default 2), concurrently. */
  | { kind: 'duplicate'; copies?: number }
  /** Delay the first delivery by `ms` real milliseconds. */
  | { kind: 'delay'; ms: number }
  /** Hold this notification back until the next one was delivered (or `ms`, default 5 s, passed). */
  | { kind: 'reorder'; ms?: number }
  /** Before the genuine delivery, send a copy with a forged signature and an unknown `notify_id`. */
  | { kind: 'forge' };

export type Fault = GatewayFault | NotificationFault;

/** A business node the sandbox answered with (signed again, identically, when replayed). */
export interface RecordedAnswer {
  readonly node: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** When a rule fires: on matching calls number `skip + 1` to `skip + times`, counted from its creation. */
interface Window {
  /** Matching calls to let through first (default 0). */
  skip?: number;
  /** Matching calls to fault after that (default 1); `'always'` for every one. */
  times?: number | 'always';
  /** Only calls of this partner (default: any). */
  partner?: string;
}

/**
 * A fault to script. `service` is a short name (`REFUND`), a MAPI service name, `*` (any
 * gateway service) or `notification` (payment notifications, counted per notification).
 */
export type FaultSpec =
  | ({ service: string } & GatewayFault & Window)
  | ({ service: 'notification' } & NotificationFault & Window);

/** An installed fault rule, as listed by `GET /sandbox/faults`. */
export interface FaultRule {
  readonly id: number;
  readonly target: ServiceTarget;
  readonly fault: Fault;
  readonly skip: number;
  readonly times: number | 'always';
  readonly partner: string | undefined;
  /** Matching calls seen since the rule was added. */
  seen: number;
  /** Calls this rule faulted. */
  fired: number;
}

const GATEWAY_KINDS = new Set([
  'hang',
  'reset',
  'lost-answer',
  'slow',
  'http-error',
  'non-xml',
  'system-error',
  'unknown',
  'fail',
  'foreign-answer',
]);
const NOTIFICATION_KINDS = new Set(['drop', 'duplicate', 'delay', 'reorder', 'forge']);

/**
 * The fault script of one sandbox: rules added over HTTP (`POST /sandbox/faults`) or in
 * process (`sandbox.faults.add(...)`), consulted once per gateway call and once per
 * notification. Rules are positional (which matching call they hit), so a test can say
 * "the second REFUND loses its answer" without counting anything else.
 */
export class FaultBook {
  private readonly rules: FaultRule[] = [];
  private nextId = 1;
  /** The last genuine business answer per partner and service: what `foreign-answer` replays. */
  private readonly answers = new Map<string, RecordedAnswer>();

  /** Keeps a genuine answer (business node and fields) for later replay. */
  rememberAnswer(service: string, partner: string, answer: RecordedAnswer): void {
    this.answers.set(`${partner} ${service}`, answer);
  }

  /** The last genuine answer to a `service` call of `partner`, if any. */
  lastAnswer(service: string, partner: string): RecordedAnswer | undefined {
    return this.answers.get(`${partner} ${service}`);
  }

  /** Validates and installs a rule; returns it (its `id` removes it again). */
  add(spec: FaultSpec): FaultRule {
    const rule = validate(spec, this.nextId);
    this.nextId += 1;
    this.rules.push(rule);
    return rule;
  }

  /** Removes one rule; false when it does not exist. */
  remove(id: number): boolean {
    const at = this.rules.findIndex((r) => r.id === id);
    if (at < 0) return false;
    this.rules.splice(at, 1);
    return true;
  }

  /** Removes every rule. */
  clear(): void {
    this.rules.length = 0;
  }

  /** Installed rules, oldest first. */
  list(): readonly FaultRule[] {
    return [...this.rules];
  }

  /**
   * Counts one call to `service` (a MAPI service name) by `partner` and returns the fault to
   * inject, if any. Every matching rule counts the call; the oldest firing rule wins.
   */
  takeForGateway(service: string, partner: string | undefined): GatewayFault | undefined {
    return this.take(
      (t) => t.kind === 'any' || (t.kind === 'service' && t.service === service),
      partner,
    ) as GatewayFault | undefined;
  }

  /** Counts one payment notification of `partner` and returns the fault to inject, if any. */
  takeForNotification(partner: string): NotificationFault | undefined {
    return this.take((t) => t.kind === 'notification', partner) as NotificationFault | undefined;
  }

  private take(
    matches: (t: ServiceTarget) => boolean,
    partner: string | undefined,
  ): Fault | undefined {
    let chosen: Fault | undefined;
    for (const rule of this.rules) {
      if (!matches(rule.target)) continue;
      if (rule.partner !== undefined && rule.partner !== partner) continue;
      rule.seen += 1;
      const inWindow =
        rule.seen > rule.skip && (rule.times === 'always' || rule.seen <= rule.skip + rule.times);
      if (!inWindow) continue;
      rule.fired += 1;
      chosen ??= rule.fault;
    }
    return chosen;
  }
}

/** `from` names a gateway service with an XML answer; `outTradeNo` goes with `from: QUERY`. */
function validateForeignAnswer(fault: { from?: unknown; outTradeNo?: unknown }): void {
  const from = fault.from ?? 'QUERY';
  const target = typeof from === 'string' ? resolveServiceTarget(from) : undefined;
  if (target?.kind !== 'service' || target.short === 'NOTIFY_VERIFY')
    throw badRequest('fault.from must name a gateway service with an XML answer (e.g. "QUERY")');
  if (fault.outTradeNo !== undefined) {
    if (typeof fault.outTradeNo !== 'string' || fault.outTradeNo === '')
      throw badRequest('fault.outTradeNo must be a non-empty string');
    if (target.short !== 'QUERY') throw badRequest('fault.outTradeNo goes with from: "QUERY"');
  }
}

function validate(spec: FaultSpec, id: number): FaultRule {
  if (typeof spec !== 'object' || spec === null) throw badRequest('a fault must be a JSON object');
  const { service, skip, times, partner, ...fault } = spec as FaultSpec & Record<string, unknown>;
  if (typeof service !== 'string')
    throw badRequest('fault.service is required (e.g. "REFUND", "*", "notification")');
  const target = resolveServiceTarget(service);
  if (!target) throw badRequest(`fault.service ${JSON.stringify(service)} is not a known service`);
  const kinds = target.kind === 'notification' ? NOTIFICATION_KINDS : GATEWAY_KINDS;
  const kind = (fault as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !kinds.has(kind)) {
    throw badRequest(`fault.kind must be one of ${[...kinds].join(', ')} for ${service}`);
  }
  for (const key of ['ms', 'status', 'attempts', 'copies'] as const) {
    const v = (fault as Record<string, unknown>)[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) {
      throw badRequest(`fault.${key} must be a non-negative integer`);
    }
  }
  if (kind === 'slow' || kind === 'delay') {
    if ((fault as { ms?: unknown }).ms === undefined)
      throw badRequest(`fault.ms is required for ${kind}`);
  }
  if (kind === 'fail' && typeof (fault as { error?: unknown }).error !== 'string') {
    throw badRequest('fault.error (a MAPI error code) is required for fail');
  }
  if (kind === 'foreign-answer')
    validateForeignAnswer(fault as { from?: unknown; outTradeNo?: unknown });
  const status = (fault as { status?: number }).status;
  if (status !== undefined && (status < 400 || status > 599))
    throw badRequest('fault.status must be 400..599');
  const skipN = skip ?? 0;
  if (!Number.isInteger(skipN) || skipN < 0)
    throw badRequest('fault.skip must be a non-negative integer');
  const timesN = times ?? 1;
  if (timesN !== 'always' && (!Number.isInteger(timesN) || timesN < 1)) {
    throw badRequest('fault.times must be a positive integer or "always"');
  }
  if (partner !== undefined && typeof partner !== 'string')
    throw badRequest('fault.partner must be a string');
  return {
    id,
    target,
    fault: fault as Fault,
    skip: skipN,
    times: timesN,
    partner,
    seen: 0,
    fired: 0,
  };
}
