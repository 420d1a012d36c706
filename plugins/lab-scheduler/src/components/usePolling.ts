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
  /**
   * The current poll's state. A refresh asked for while its load is in flight (a signal arrives during it)
   * does not cancel that load but asks for one more right after it: under a steady stream of signals, a
   * load slower than the gap between them would otherwise be cancelled every time and never land.
   */
  const poll = useRef({ loading: false, again: false });

  useEffect(() => {
    setLoading(true);
    setValue(undefined);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const state = { loading: false, again: false };
    poll.current = state;
    const run = async () => {
      state.loading = true;
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
        state.loading = false;
        if (!cancelled) setLoading(false);
      }
      if (cancelled) return;
      if (state.again) {
        state.again = false;
        run();
        return;
      }
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

  const refresh = () => {
    if (poll.current.loading) poll.current.again = true;
    else setTick(t => t + 1);
  };
  return { value, error, loading, refresh };
}
