import type { SandboxClock } from './clock';
import type { FaultBook } from './faults';
import type { Notifier } from './notifier';
import type { PartnerRegistry } from './partners';
import type { CodeBook } from './state/codes';
import type { IdFactory } from './state/ids';
import type { TradeBook } from './state/trades';

/** Gateway rules that tests may want to tighten or loosen. */
export interface GatewayRules {
  /** Validity window of `timestamp`, both directions. */
  timestampWindowMs: number;
  /** How long a `notify_id` stays valid for `notify_verify` (undefined: forever) [R]. */
  notifyIdTtlMs: number | undefined;
}

/**
 * Everything one running sandbox consists of, passed to the gateway services, the customer
 * and the control endpoints. One instance per `startSandbox` call; nothing is global.
 */
export interface SandboxCore {
  readonly clock: SandboxClock;
  readonly partners: PartnerRegistry;
  readonly ids: IdFactory;
  readonly codes: CodeBook;
  readonly trades: TradeBook;
  readonly faults: FaultBook;
  readonly notifier: Notifier;
  readonly rules: GatewayRules;
  readonly log: (line: string) => void;
  /** Codes, trades or refunds may have changed: saves the state file soon (if there is one). */
  readonly changed: () => void;
}
