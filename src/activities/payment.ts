import type { ActivityDeps } from './deps';

/** Gateway and merchant-hook activities of the PaymentWorkflow. */
export function createPaymentActivities(_deps: ActivityDeps) {
  return {};
}
