/** An exponential backoff: `initialMs` before the first retry, doubling, never more than `maxMs`. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/** The delay before retry number `attempt` (1 = the first retry). */
export function backoffDelay(policy: BackoffPolicy, attempt: number): number {
  // The exponent is capped so that 2 ** n stays finite for any attempt count.
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  return Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
}
