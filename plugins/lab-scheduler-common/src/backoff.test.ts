import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
  it('waits the base delay before the first retry and doubles it for each further one', () => {
    const delays = [1, 2, 3, 4, 5].map(attempt =>
      backoffDelay({ attempt, baseMs: 250, maxMs: 60_000 }),
    );
    expect(delays).toEqual([250, 500, 1_000, 2_000, 4_000]);
  });

  it('never waits more than maxMs', () => {
    expect(backoffDelay({ attempt: 6, baseMs: 250, maxMs: 8_000 })).toBe(8_000);
    expect(backoffDelay({ attempt: 7, baseMs: 250, maxMs: 8_000 })).toBe(8_000);
  });

  it('stays finite for any attempt count, with or without a maximum', () => {
    const unbounded = backoffDelay({ attempt: 5_000, baseMs: 1_000 });
    expect(Number.isFinite(unbounded)).toBe(true);
    expect(unbounded).toBe(1_000 * 2 ** 30);
    expect(backoffDelay({ attempt: 5_000, baseMs: 1_000, maxMs: 60_000 })).toBe(
      60_000,
    );
  });

  it('counts an attempt below 1 (or not a whole number) as the first', () => {
    expect(backoffDelay({ attempt: 0, baseMs: 500 })).toBe(500);
    expect(backoffDelay({ attempt: -3, baseMs: 500 })).toBe(500);
    expect(backoffDelay({ attempt: Number.NaN, baseMs: 500 })).toBe(500);
    expect(backoffDelay({ attempt: 2.7, baseMs: 500 })).toBe(1_000);
  });
});
