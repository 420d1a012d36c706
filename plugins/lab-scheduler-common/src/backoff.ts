/**
 * An exponential backoff: `baseMs` before the first retry, doubling with each further attempt, never
 * more than `maxMs` (no limit when absent).
 * @public
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs?: number;
}

/**
 * The delay before retry number `attempt` (1 = the first retry) under a {@link BackoffPolicy}: the one
 * backoff formula of the Lab Scheduler, used by the dispatcher's publish and loop retries, the
 * executors' report and upload retries, the Lambda's redelivery delay and the frontend's polling.
 * @public
 */
export function backoffDelay(
  options: BackoffPolicy & { attempt: number },
): number {
  const { attempt, baseMs, maxMs = Number.POSITIVE_INFINITY } = options;
  // Attempts below 1 (or not a number) count as the first; the exponent is capped so that 2 ** n stays
  // finite however many attempts there were.
  const exponent = Math.min(Math.max(Math.floor(attempt) || 1, 1) - 1, 30);
  return Math.min(maxMs, baseMs * 2 ** exponent);
}
