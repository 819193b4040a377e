import type { ActivityDeps } from './deps';
import { createPaymentActivities } from './payment';
import { createQrCodeActivities } from './qrcode';

export type { ActivityDeps, ActivityMetrics, MerchantHookConfig, MoneyCallOutcome } from './deps';

/** Every activity the worker registers, built from the configured gateway client. */
export function createActivities(deps: ActivityDeps) {
  return { ...createPaymentActivities(deps), ...createQrCodeActivities(deps) };
}

/** The activity interface workflows proxy (`proxyActivities<EngineActivities>`): types only. */
export type EngineActivities = ReturnType<typeof createActivities>;
