import type { ActivityDeps } from './deps';

/** Gateway activities of the MerchantQrCodeWorkflow. */
export function createQrCodeActivities(_deps: ActivityDeps) {
  return {};
}
