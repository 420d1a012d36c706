/**
 * Supplies the bearer token for the backend. `rejected` is the token the backend just answered 401 to:
 * the provider then returns a newer value than that one if it can find one (a rotated secret).
 */
export type ServiceTokenProvider = (options?: {
  rejected?: string;
}) => Promise<string>;

/**
 * A provider that keeps a secret's value for `ttlMs` and reads it again when it expires or when the
 * backend rejects the cached value. Long-lived warm containers (provisioned concurrency) would otherwise
 * keep a rotated-out token for their whole life.
 *
 * Concurrent callers share one read. When a refresh fails, the previous value is kept (an outage of the
 * secret store must not stop reporting with a token the backend still accepts); a refresh forced by a
 * rejection has no such fallback, so its error surfaces.
 */
export function cachedServiceToken(
  read: () => Promise<string>,
  options: { ttlMs: number; now?: () => number },
): ServiceTokenProvider {
  const now = options.now ?? Date.now;
  let cached: { token: string; readAt: number } | undefined;
  let reading: Promise<string> | undefined;

  const refresh = () => {
    reading ??= read()
      .then(token => {
        cached = { token, readAt: now() };
        return token;
      })
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };

  return async ({ rejected } = {}) => {
    if (rejected !== undefined) {
      // Another caller may already have replaced the rejected value.
      if (cached && cached.token !== rejected) return cached.token;
      return refresh();
    }
    if (cached && now() - cached.readAt < options.ttlMs) return cached.token;
    if (!cached) return refresh();
    try {
      return await refresh();
    } catch {
      return cached.token;
    }
  };
}
