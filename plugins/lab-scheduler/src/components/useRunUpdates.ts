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

/** Whether a run in this status has not ended yet (pending, queued or running). */
export function isRunUnderWay(status?: string): boolean {
  return status === 'pending' || status === 'queued' || status === 'running';
}

/** For useLivePolling's `underWay`: a page of tasks of which one has its last run under way. */
export function anyTaskRunUnderWay(page: {
  items: Array<{ lastRun?: { status: string } | null }>;
}): boolean {
  return page.items.some(task => isRunUnderWay(task.lastRun?.status));
}

/**
 * usePolling that reloads as soon as the backend signals a change, and then polls only every
 * LIVE_POLL_INTERVAL_MS; without the signals plugin it polls every `intervalMs` as before.
 *
 * While `underWay(value)` says something on screen is still changing (a run pending, queued or running)
 * it polls every `intervalMs` even with signals: a signal is not guaranteed to arrive. The signal
 * client subscribes at once but connects later (the signals backend 0.3.19 accepts WebSockets only
 * from its second upgrade request on, so the first connection after a backend start fails and is
 * retried 5 s later), and any signal sent while it is disconnected is lost. A run started from a page
 * just opened could end in that gap and stay "Running" on screen until the 60 s poll.
 */
export function useLivePolling<T>(
  load: () => Promise<T>,
  deps: unknown[],
  intervalMs = 5000,
  underWay?: (value: T) => boolean,
) {
  // A signal reloads in place (refresh keeps the value on screen; changing deps would blank it).
  const refresh = useRef<() => void>(() => {});
  const { live } = useRunUpdates(() => refresh.current());
  const liveRef = useRef(live);
  liveRef.current = live;
  const underWayRef = useRef(underWay);
  underWayRef.current = underWay;
  // Decided after each load from what it loaded, so a run appearing or ending reloads nothing extra.
  const polled = usePolling(load, deps, value =>
    liveRef.current &&
    !(value !== undefined && (underWayRef.current?.(value) ?? false))
      ? Math.max(intervalMs, LIVE_POLL_INTERVAL_MS)
      : intervalMs,
  );
  refresh.current = polled.refresh;
  return { ...polled, live };
}
