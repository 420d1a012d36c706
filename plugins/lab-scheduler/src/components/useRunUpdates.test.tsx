import { PropsWithChildren } from 'react';
import { TestApiProvider } from '@backstage/test-utils';
import { signalApiRef, SignalApi } from '@backstage/plugin-signals-react';
import { act, renderHook, waitFor } from '@testing-library/react';
import {
  anyTaskRunUnderWay,
  LIVE_POLL_INTERVAL_MS,
  RUN_UPDATES_CHANNEL,
  useLivePolling,
} from './useRunUpdates';

/** A signals client whose `emit` delivers a message as the signals backend would. */
function fakeSignals() {
  const listeners = new Map<string, (message: any) => void>();
  const api: SignalApi = {
    subscribe(channel, onMessage) {
      listeners.set(channel, onMessage as any);
      return { unsubscribe: () => listeners.delete(channel) };
    },
  };
  return {
    api,
    listeners,
    emit: (channel: string) => listeners.get(channel)?.({ type: 'changed' }),
  };
}

describe('useLivePolling', () => {
  it('reloads on a run-update signal and then polls only as a safety net', async () => {
    const signals = fakeSignals();
    let n = 0;
    const load = jest.fn(async () => ++n);
    const wrapper = ({ children }: PropsWithChildren<{}>) => (
      <TestApiProvider apis={[[signalApiRef, signals.api]]}>
        {children}
      </TestApiProvider>
    );
    const { result, unmount } = renderHook(
      () => useLivePolling(load, [], 1000),
      { wrapper },
    );
    await waitFor(() => expect(result.current.value).toBeGreaterThan(0));
    expect(result.current.live).toBe(true);
    expect([...signals.listeners.keys()]).toEqual([RUN_UPDATES_CHANNEL]);
    const before = load.mock.calls.length;
    act(() => signals.emit(RUN_UPDATES_CHANNEL));
    await waitFor(() => expect(load.mock.calls.length).toBeGreaterThan(before));
    // The value stays on screen while the signal reloads it.
    expect(result.current.value).toBeGreaterThan(0);
    expect(LIVE_POLL_INTERVAL_MS).toBeGreaterThan(1000);
    unmount();
    expect(signals.listeners.size).toBe(0);
  });

  it('keeps polling at its own interval when the portal has no signals plugin', async () => {
    jest.useFakeTimers();
    try {
      let n = 0;
      const load = jest.fn(async () => ++n);
      const wrapper = ({ children }: PropsWithChildren<{}>) => (
        <TestApiProvider apis={[]}>{children}</TestApiProvider>
      );
      const { result } = renderHook(() => useLivePolling(load, [], 1000), {
        wrapper,
      });
      await act(async () => {
        await jest.advanceTimersByTimeAsync(3500);
      });
      expect(result.current.live).toBe(false);
      expect(load.mock.calls.length).toBeGreaterThanOrEqual(3);
    } finally {
      jest.useRealTimers();
    }
  });

  it('with signals, polls at its own interval while a run is under way, and only as a safety net after', async () => {
    // A signal may be lost (the signal client connects seconds after subscribing, and drops signals
    // while reconnecting): a run shown as running must still reach its end on screen without one.
    jest.useFakeTimers();
    try {
      const signals = fakeSignals();
      let status = 'running';
      const load = jest.fn(async () => ({
        items: [{ lastRun: { status } }],
      }));
      const wrapper = ({ children }: PropsWithChildren<{}>) => (
        <TestApiProvider apis={[[signalApiRef, signals.api]]}>
          {children}
        </TestApiProvider>
      );
      const { result } = renderHook(
        () => useLivePolling(load, [], 1000, anyTaskRunUnderWay),
        { wrapper },
      );
      await act(async () => {
        await jest.advanceTimersByTimeAsync(3500);
      });
      expect(result.current.live).toBe(true);
      // No signal sent: the run's end still shows within the interval.
      status = 'succeeded';
      await act(async () => {
        await jest.advanceTimersByTimeAsync(1100);
      });
      expect(result.current.value?.items[0].lastRun.status).toBe('succeeded');
      // Nothing under way any more: back to the safety-net poll.
      const calls = load.mock.calls.length;
      await act(async () => {
        await jest.advanceTimersByTimeAsync(LIVE_POLL_INTERVAL_MS - 1000);
      });
      expect(load.mock.calls.length).toBe(calls);
      await act(async () => {
        await jest.advanceTimersByTimeAsync(1500);
      });
      expect(load.mock.calls.length).toBe(calls + 1);
    } finally {
      jest.useRealTimers();
    }
  });
});
