import { useEffect, useRef, useState } from 'react';
import { useApiHolder } from '@backstage/core-plugin-api';
import { signalApiRef } from '@backstage/plugin-signals-react';
import { usePolling } from './usePolling';

/** The channel the backend signals task and run changes on (RunUpdateSignals in the backend plugin). */
export const RUN_UPDATES_CHANNEL = 'lab-scheduler:runs';

/** How often pages still poll while signals push changes: a safety net for a missed signal. */
export const LIVE_POLL_INTERVAL_MS = 60_000;

/**
 * Calls `onUpdate` whenever the backend signals that tasks or runs changed. `live` says whether the
 * portal has the signals plugin: without it nothing is pushed and callers keep polling (see useLivePolling).
 */
export function useRunUpdates(onUpdate: () => void): { live: boolean } {
  const signalApi = useApiHolder().get(signalApiRef);
  const onUpdateRef = useRef(onUpdate);
  onUpdateRef.current = onUpdate;
  const [live, setLive] = useState(false);
  useEffect(() => {
    if (!signalApi) return undefined;
    const { unsubscribe } = signalApi.subscribe(RUN_UPDATES_CHANNEL, () =>
      onUpdateRef.current(),
    );
    setLive(true);
    return () => {
      setLive(false);
      unsubscribe();
    };
  }, [signalApi]);
  return { live };
}

/**
 * usePolling that reloads as soon as the backend signals a change, and then polls only every
 * LIVE_POLL_INTERVAL_MS; without the signals plugin it polls every `intervalMs` as before.
 */
export function useLivePolling<T>(
  load: () => Promise<T>,
  deps: unknown[],
  intervalMs = 5000,
) {
  // A signal reloads in place (refresh keeps the value on screen; changing deps would blank it).
  const refresh = useRef<() => void>(() => {});
  const { live } = useRunUpdates(() => refresh.current());
  const polled = usePolling(
    load,
    deps,
    live ? Math.max(intervalMs, LIVE_POLL_INTERVAL_MS) : intervalMs,
  );
  refresh.current = polled.refresh;
  return { ...polled, live };
}
