import { backoffDelay } from '@lab-scheduler/plugin-lab-scheduler-common';
import { useEffect, useRef, useState } from 'react';

/**
 * Re-runs `load` every `intervalMs` while the page is visible, backing off (up to 8×) after errors, and
 * keeps the last good value on screen meanwhile: no flicker, no lost scroll position.
 */
export function usePolling<T>(
  load: () => Promise<T>,
  deps: unknown[],
  intervalMs = 5000,
): { value?: T; error?: Error; loading: boolean; refresh: () => void } {
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const failures = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    setLoading(true);
    setValue(undefined);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const next = await loadRef.current();
        if (cancelled) return;
        failures.current = 0;
        setValue(next);
        setError(undefined);
      } catch (e) {
        if (cancelled) return;
        failures.current++;
        setError(e as Error);
      } finally {
        if (!cancelled) setLoading(false);
      }
      if (cancelled) return;
      // Failures so far count as retries: the interval after a success, doubling per failure, at most 8×.
      const delay = backoffDelay({
        attempt: failures.current + 1,
        baseMs: intervalMs,
        maxMs: 8 * intervalMs,
      });
      timer = setTimeout(() => {
        if (
          typeof document === 'undefined' ||
          document.visibilityState !== 'hidden'
        )
          run();
        else timer = setTimeout(run, delay);
      }, delay);
    };
    run();
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick, intervalMs]);

  return { value, error, loading, refresh: () => setTick(t => t + 1) };
}
