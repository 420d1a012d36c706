import {
  clashWithin,
  DEFAULT_EXPECTED_DURATION_SECONDS,
  expectedDurationMs,
  occurrencesBetween,
} from './calendar';
import { measurementTypes } from './measurements';

const t = (iso: string) => Date.parse(iso);
const MIN = 60_000;

describe('expectedDurationMs', () => {
  it('is the measurement type’s expected duration, a default for unknown types', () => {
    expect(expectedDurationMs('qpcr-amplification')).toBe(
      measurementTypes['qpcr-amplification'].expectedDurationSeconds * 1000,
    );
    expect(expectedDurationMs('telepathy')).toBe(
      DEFAULT_EXPECTED_DURATION_SECONDS * 1000,
    );
    // An inherited member is not a measurement type.
    expect(expectedDurationMs('constructor')).toBe(
      DEFAULT_EXPECTED_DURATION_SECONDS * 1000,
    );
  });

  it('is positive for every built-in type', () => {
    for (const definition of Object.values(measurementTypes)) {
      expect(definition.expectedDurationSeconds).toBeGreaterThan(0);
    }
  });
});

describe('occurrencesBetween', () => {
  it('follows the wall clock across the spring-forward night (Europe/Berlin, 2027-03-28)', () => {
    const daily = {
      type: 'cron' as const,
      expression: '30 8 * * *',
      timezone: 'Europe/Berlin',
    };
    expect(
      occurrencesBetween(
        daily,
        t('2027-03-27T00:00:00Z'),
        t('2027-03-29T00:00:00Z'),
        10,
      ).map(ms => new Date(ms).toISOString()),
    ).toEqual([
      '2027-03-27T07:30:00.000Z', // 08:30 CET
      '2027-03-28T06:30:00.000Z', // 08:30 CEST
    ]);
  });

  it('stops at the end of the window (exclusive) and at max', () => {
    const hourly = {
      type: 'cron' as const,
      expression: '0 * * * *',
      timezone: 'UTC',
    };
    const from = t('2026-12-01T00:00:00Z');
    expect(occurrencesBetween(hourly, from, from + 3 * 60 * MIN, 10)).toEqual([
      from,
      from + 60 * MIN,
      from + 120 * MIN,
    ]);
    expect(
      occurrencesBetween(hourly, from, from + 24 * 60 * MIN, 4),
    ).toHaveLength(4);
  });

  it('gives a one-time schedule once, inside the window only', () => {
    const once = { type: 'once' as const, at: '2026-12-01T09:00:00.000Z' };
    expect(
      occurrencesBetween(
        once,
        t('2026-12-01T00:00:00Z'),
        t('2026-12-02T00:00:00Z'),
        5,
      ),
    ).toEqual([t('2026-12-01T09:00:00Z')]);
    expect(
      occurrencesBetween(
        once,
        t('2026-12-01T09:00:00.001Z'),
        t('2026-12-02T00:00:00Z'),
        5,
      ),
    ).toEqual([]);
  });
});

describe('clashWithin', () => {
  const at = (startMin: number, endMin: number) => ({
    start: startMin * MIN,
    end: endMin * MIN,
  });

  it('reports each overlap and the time the instrument is full (capacity 1)', () => {
    const clash = clashWithin(at(0, 30), [at(20, 50), at(40, 60)], 1);
    expect(clash.overlaps).toEqual([{ index: 0, overlapMs: 10 * MIN }]);
    expect(clash.overCapacityMs).toBe(10 * MIN);
  });

  it('counts only the time when capacity or more runs are on (capacity 2)', () => {
    // Others: 0-20 and 10-30; both on during 10-20.
    const clash = clashWithin(at(0, 30), [at(0, 20), at(10, 30)], 2);
    expect(clash.overlaps.map(o => o.overlapMs)).toEqual([20 * MIN, 20 * MIN]);
    expect(clash.overCapacityMs).toBe(10 * MIN);
  });

  it('does not count back-to-back runs or an unlimited instrument', () => {
    expect(clashWithin(at(10, 20), [at(0, 10), at(20, 30)], 1)).toEqual({
      overCapacityMs: 0,
      overlaps: [],
    });
    const unlimited = clashWithin(at(0, 30), [at(0, 30), at(0, 30)], null);
    expect(unlimited.overCapacityMs).toBe(0);
    expect(unlimited.overlaps).toHaveLength(2);
  });
});
