import { backoffDelay } from '@lab-scheduler/plugin-lab-scheduler-common';
import { useEffect, useRef, useState } from 'react';

/**
 * Re-runs `load` every `intervalMs` while the page is visible, backing off (up to 8×) after errors, and
 * keeps the last good value on screen meanwhile: no flicker, no lost scroll position.
 */
export function usePolling<T>(
  load: () => Promise<T>,
  deps: unknown[],
  /** A number, or the interval after each load given the last good value (read when the next poll is timed). */
  intervalMs: number | ((value: T | undefined) => number) = 5000,
): { value?: T; error?: Error; loading: boolean; refresh: () => void } {
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const failures = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const intervalRef = useRef(intervalMs);
  intervalRef.current = intervalMs;
  const lastGood = useRef<T>();

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
        lastGood.current = next;
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
      const interval = intervalRef.current;
      const baseMs =
        typeof interval === 'function' ? interval(lastGood.current) : interval;
      const delay = backoffDelay({
        attempt: failures.current + 1,
        baseMs,
        maxMs: 8 * baseMs,
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
    // A function interval is read when each poll is timed: changing it reloads nothing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick, typeof intervalMs === 'number' ? intervalMs : 0]);

  return { value, error, loading, refresh: () => setTick(t => t + 1) };
}
