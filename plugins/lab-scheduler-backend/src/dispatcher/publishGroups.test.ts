import { publishGroupEnd } from './publishGroups';

const at = (...instants: number[]) =>
  instants.map(scheduledFor => ({ scheduledFor }));

describe('publishGroupEnd', () => {
  const runs = at(100, 101, 102, 104, 106, 200);

  it('without a window takes the runs due by now, the first always', () => {
    expect(
      publishGroupEnd(runs, 0, { nowMs: 100, windowMs: 0, maxSize: 10 }),
    ).toBe(1);
    expect(
      publishGroupEnd(runs, 0, { nowMs: 102, windowMs: 0, maxSize: 10 }),
    ).toBe(3);
    // Woken early (an injected clock): still the first alone, never a later one.
    expect(
      publishGroupEnd(runs, 0, { nowMs: 90, windowMs: 0, maxSize: 10 }),
    ).toBe(1);
  });

  it('with a window takes the runs due within it of the first, not beyond', () => {
    expect(
      publishGroupEnd(runs, 0, { nowMs: 100, windowMs: 5, maxSize: 10 }),
    ).toBe(4);
    expect(
      publishGroupEnd(runs, 1, { nowMs: 101, windowMs: 5, maxSize: 10 }),
    ).toBe(5);
    expect(
      publishGroupEnd(runs, 5, { nowMs: 200, windowMs: 5, maxSize: 10 }),
    ).toBe(6);
  });

  it('takes every run due by now when that reaches past the window (a backlog), up to the size', () => {
    expect(
      publishGroupEnd(runs, 0, { nowMs: 150, windowMs: 5, maxSize: 10 }),
    ).toBe(5);
    expect(
      publishGroupEnd(runs, 0, { nowMs: 300, windowMs: 5, maxSize: 10 }),
    ).toBe(6);
    expect(
      publishGroupEnd(runs, 0, { nowMs: 300, windowMs: 5, maxSize: 2 }),
    ).toBe(2);
    expect(
      publishGroupEnd(runs, 2, { nowMs: 300, windowMs: 0, maxSize: 3 }),
    ).toBe(5);
  });
});
