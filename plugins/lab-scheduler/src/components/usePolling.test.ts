import { act, renderHook } from '@testing-library/react';
import { usePolling } from './usePolling';

describe('usePolling', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** Advances the clock by `ms` and lets the load's promise settle. */
  const advance = async (ms: number) => {
    await act(async () => {
      await jest.advanceTimersByTimeAsync(ms);
    });
  };

  it('backs off after failed loads (doubling, at most 8× the interval) and polls at the interval again after a success', async () => {
    // Fails five times, then answers with the number of its call.
    let calls = 0;
    const started = Date.now();
    const callTimes: number[] = [];
    const load = async () => {
      callTimes.push(Date.now() - started);
      calls++;
      if (calls <= 5) throw new Error(`down (${calls})`);
      return calls;
    };
    const { result } = renderHook(() => usePolling(load, [], 1_000));
    // Failures 1-5, then a success, then one more poll at the plain interval.
    for (let i = 0; i < 60 && callTimes.length < 7; i++) await advance(1_000);

    const gaps = callTimes.slice(1).map((t, i) => t - callTimes[i]);
    expect(gaps).toEqual([2_000, 4_000, 8_000, 8_000, 8_000, 1_000]);
    expect(result.current.value).toBe(7);
    expect(result.current.error).toBeUndefined();
  });

  it('lets a slow load land when refreshes arrive during it, then loads once more', async () => {
    // Each load takes 1 s and answers with the number of its call.
    let calls = 0;
    const load = () =>
      new Promise<number>(resolve => {
        const call = ++calls;
        setTimeout(() => resolve(call), 1_000);
      });
    const { result } = renderHook(() => usePolling(load, [], 60_000));
    // Refreshes every 300 ms (a busy lab's signals) while the first load runs.
    for (let i = 0; i < 3; i++) {
      await advance(300);
      act(() => result.current.refresh());
    }
    await advance(200);
    expect(result.current.value).toBe(1);
    // The refreshes asked for one more load, started when the first ended: no more, no fewer.
    await advance(1_000);
    expect(result.current.value).toBe(2);
    expect(calls).toBe(2);
  });
});
