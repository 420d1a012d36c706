import { CronExpressionParser } from 'cron-parser';
import {
  cronSyntaxError,
  describeSchedule,
  firstOccurrenceAtOrAfter,
  isValidTimeZone,
  nextCronOccurrence,
  occurrenceAfter,
  upcomingOccurrences,
} from './schedule';
import type { CronSchedule } from './types';

const t = (iso: string) => Date.parse(iso);
const isoList = (ms: number[]) => ms.map(m => new Date(m).toISOString());

describe('schedule maths', () => {
  it('validates time zones and cron syntax', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
    expect(cronSyntaxError('0 9 * * 1-5')).toBeUndefined();
    expect(cronSyntaxError('0 9 * *')).toMatch(/5 fields/);
    expect(cronSyntaxError('61 9 * * *')).toMatch(/not a valid cron/);
    expect(cronSyntaxError('@daily')).toBeDefined();
  });

  it('computes weekday occurrences in a zone', () => {
    const s: CronSchedule = {
      type: 'cron',
      expression: '0 9 * * 1-5',
      timezone: 'Europe/Berlin',
    };
    // Friday 2026-11-27 10:00 UTC: next is Monday 09:00 CET = 08:00 UTC.
    expect(
      isoList(upcomingOccurrences(s, t('2026-11-27T10:00:00Z'), 3)),
    ).toEqual([
      '2026-11-30T08:00:00.000Z',
      '2026-12-01T08:00:00.000Z',
      '2026-12-02T08:00:00.000Z',
    ]);
  });

  it('fires a time inside the spring-forward gap once, shifted by the gap (Europe/Berlin)', () => {
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
    const s: CronSchedule = {
      type: 'cron',
      expression: '30 2 * * *',
      timezone: 'Europe/Berlin',
    };
    expect(
      isoList(upcomingOccurrences(s, t('2026-03-28T00:00:00Z'), 3)),
    ).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:30:00.000Z', // shifted to 03:30 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('does not fire twice in the fall-back hour (America/New_York)', () => {
    // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
    const s: CronSchedule = {
      type: 'cron',
      expression: '30 1 * * *',
      timezone: 'America/New_York',
    };
    expect(
      isoList(upcomingOccurrences(s, t('2026-10-31T12:00:00Z'), 3)),
    ).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT, the first pass
      '2026-11-02T06:30:00.000Z', // 01:30 EST
      '2026-11-03T06:30:00.000Z',
    ]);
  });

  it('keeps every-15-minute schedules unique and ordered across the fall-back hour', () => {
    const s: CronSchedule = {
      type: 'cron',
      expression: '*/15 * * * *',
      timezone: 'America/New_York',
    };
    const occ = upcomingOccurrences(s, t('2026-11-01T04:00:00Z'), 12);
    for (let i = 1; i < occ.length; i++)
      expect(occ[i]).toBeGreaterThan(occ[i - 1]);
    // The repeated local hour 01:xx fires once only: from 00:00 EDT, 12 slots reach 03:45 local... minus the repeat.
    const wallClock = occ.map(ms =>
      new Date(ms).toLocaleTimeString('en-GB', {
        timeZone: 'America/New_York',
        hour12: false,
      }),
    );
    expect(new Set(wallClock).size).toBe(wallClock.length);
  });

  it('handles the 30-minute DST shift of Australia/Lord_Howe', () => {
    // 2026-10-04: 02:00 LHST (+10:30) jumps to 02:30 LHDT (+11:00); 02:15 does not exist.
    const s: CronSchedule = {
      type: 'cron',
      expression: '15 2 * * *',
      timezone: 'Australia/Lord_Howe',
    };
    const [first, second] = upcomingOccurrences(
      s,
      t('2026-10-02T12:00:00Z'),
      2,
    );
    expect(new Date(first).toISOString()).toBe('2026-10-02T15:45:00.000Z'); // 02:15 +10:30 on Oct 3
    expect(new Date(second).toISOString()).toBe('2026-10-03T15:45:00.000Z'); // shifted to 02:45 +11:00
  });

  it('reports null for a cron that can never fire', () => {
    expect(
      nextCronOccurrence('0 0 30 2 *', 'UTC', t('2026-01-01T00:00:00Z')),
    ).toBeNull();
    expect(cronSyntaxError('0 0 30 2 *')).toBe(
      'can never fire (no month has that day)',
    );
    expect(
      nextCronOccurrence('0 0 31 4 *', 'UTC', t('2026-01-01T00:00:00Z')),
    ).toBeNull();
  });

  it('respects startAt and endAt', () => {
    const s: CronSchedule = {
      type: 'cron',
      expression: '0 * * * *',
      timezone: 'UTC',
      startAt: '2026-12-01T10:30:00.000Z',
      endAt: '2026-12-01T12:00:00.000Z',
    };
    expect(
      isoList(upcomingOccurrences(s, t('2026-11-01T00:00:00Z'), 10)),
    ).toEqual(['2026-12-01T11:00:00.000Z', '2026-12-01T12:00:00.000Z']);
    expect(occurrenceAfter(s, t('2026-12-01T12:00:00Z'))).toBeNull();
  });

  it('treats a one-time schedule as a single occurrence', () => {
    const s = { type: 'once' as const, at: '2026-12-01T09:00:00.000Z' };
    expect(firstOccurrenceAtOrAfter(s, t('2026-11-01T00:00:00Z'))).toBe(
      t(s.at),
    );
    expect(occurrenceAfter(s, t(s.at))).toBeNull();
  });

  it('describes schedules in plain words', () => {
    expect(
      describeSchedule({
        type: 'cron',
        expression: '0 9 * * 1-5',
        timezone: 'Europe/Berlin',
      }),
    ).toBe('At 09:00, Monday through Friday (Europe/Berlin)');
    expect(
      describeSchedule({ type: 'once', at: '2026-12-01T09:00:00.000Z' }),
    ).toBe('Once, at 2026-12-01 09:00:00 UTC');
    // A one-time task keeps the zone it was entered in and is shown in it, the zone named.
    expect(
      describeSchedule({
        type: 'once',
        at: '2026-12-01T09:00:00.000Z',
        timezone: 'America/New_York',
      }),
    ).toBe('Once, at 2026-12-01 04:00 (America/New_York)');
  });

  describe('L and # (last day, last weekday, n-th weekday)', () => {
    it('fires `1#2` on the second Monday only, not every Monday', () => {
      const s: CronSchedule = {
        type: 'cron',
        expression: '0 9 * * 1#2',
        timezone: 'Europe/Berlin',
      };
      expect(
        isoList(upcomingOccurrences(s, t('2026-11-28T00:00:00Z'), 3)),
      ).toEqual([
        '2026-12-14T08:00:00.000Z',
        '2027-01-11T08:00:00.000Z',
        '2027-02-08T08:00:00.000Z',
      ]);
    });

    it('fires `L` on the last day of each month, leap years included', () => {
      expect(
        isoList(
          upcomingOccurrences(
            { type: 'cron', expression: '0 12 L 2 *', timezone: 'UTC' },
            t('2026-11-28T00:00:00Z'),
            3,
          ),
        ),
      ).toEqual([
        '2027-02-28T12:00:00.000Z',
        '2028-02-29T12:00:00.000Z',
        '2029-02-28T12:00:00.000Z',
      ]);
    });

    // The walker matches days itself (for the DST rules); cron-parser's own iteration is an independent
    // implementation of the same day rules. Both run on this runtime, so they share its tzdata. The times
    // chosen are outside every DST transition, where the two agree by definition.
    const expressions = [
      '0 9 * * 1#2',
      '30 14 * * 5#1',
      '0 9 * * 7#1',
      '0 9 * * 0#5',
      '15 10 * 3 1#5',
      '0 9 * * MON#3',
      '0 9 L * *',
      '0 9 1,15,L * *',
      '0 9 L 2,4 *',
      '0 18 * * 5L',
      '0 18 * * 1L,5L',
      '0 18 * * 0L',
      '0 9 1 * 1#2',
      '0 9 L * 5L',
      '0 7,19 * 1-6 3#4',
    ];
    const zones = [
      'UTC',
      'Europe/Berlin',
      'America/New_York',
      'Australia/Sydney',
      'Asia/Kolkata',
    ];
    const cases = expressions.flatMap(e => zones.map(z => [e, z] as const));

    it.each(cases)(
      '%s in %s agrees with cron-parser for 40 occurrences',
      (expression, timezone) => {
        const from = t('2026-11-28T00:00:00Z');
        const reference = CronExpressionParser.parse(expression, {
          tz: timezone,
          currentDate: new Date(from - 1),
        });
        const expected = Array.from({ length: 40 }, () =>
          reference.next().getTime(),
        );
        expect(
          isoList(
            upcomingOccurrences(
              { type: 'cron', expression, timezone },
              from,
              40,
            ),
          ),
        ).toEqual(isoList(expected));
      },
    );

    it.each([
      ['0 9 15W * *', /W \(nearest weekday\).*not supported/],
      ['0 9 LW * *', /W \(nearest weekday\).*not supported/],
      ['H 9 * * *', /H \(a random value\).*not supported/],
      ['0 H(0-5) * * *', /H \(a random value\).*not supported/],
      ['0 9 * * 1#6', /not a valid cron expression/],
      ['0 9 * * 1#2,3', /not a valid cron expression/],
    ])('refuses %s with a message saying why', (expression, message) => {
      expect(cronSyntaxError(expression)).toMatch(message);
    });

    it('still accepts day names that contain H or W', () => {
      expect(cronSyntaxError('0 9 * * THU,WED')).toBeUndefined();
    });
  });
});
