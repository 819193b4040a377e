import type { UpdateRejection } from './payment-types';

/**
 * Why an Update is refused: the reason for people and, for the HTTP layer, whether the request
 * itself is invalid or conflicts with the current state (the failure's `details[0]`).
 */
export interface Refusal extends UpdateRejection {
  reason: string;
}

/** A request that is wrong whatever the state: the caller must fix it (`field`, when known). */
export function invalid(reason: string, field?: string): Refusal {
  return { reason, kind: 'INVALID', ...(field ? { field } : {}) };
}

/** A valid request that the current state does not allow (it may work in another state). */
export function conflict(reason: string, field?: string): Refusal {
  return { reason, kind: 'CONFLICT', ...(field ? { field } : {}) };
}

/** The `details[0]` of the refusal's failure: its category, without the reason. */
export function rejectionOf(refusal: Refusal): UpdateRejection {
  return { kind: refusal.kind, ...(refusal.field ? { field: refusal.field } : {}) };
}
