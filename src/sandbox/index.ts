/**
 * The Alipay MAPI sandbox: a `gateway.do` peer for development, demos and tests.
 * `startSandbox()` runs one in process; `npm run sandbox` (main.ts) runs one as a process.
 */
export { startSandbox, type Sandbox, type SandboxOptions } from './server';
export { SandboxClock, type SandboxClockOptions, type InstantInput } from './clock';
export type { FaultBook, FaultRule, FaultSpec, GatewayFault, NotificationFault } from './faults';
export type { NotificationRecord, DeliveryAttempt, NotificationState } from './notifier';
export type { PayInput, PaidTrade } from './customer';
export type { SandboxInspector } from './inspection';
export type { TradeView } from './views';
export { DEFAULT_PARTNER_CONFIG, type SandboxPartnerConfig } from './partners';
export * from './defaults';
export { SandboxError } from './errors';
export type { SandboxSftp } from './server';
export type { ReconFault, ReconFileKind, ReconFileOptions, ReconFiles } from './recon/publisher';
export { reconFileName } from './recon/layout';
