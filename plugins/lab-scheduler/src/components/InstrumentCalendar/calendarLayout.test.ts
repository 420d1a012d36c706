import type { CalendarEntry } from '@lab-scheduler/plugin-lab-scheduler-common';
import { DateTime } from 'luxon';
import { calendarWindow, placeEntries } from './calendarLayout';

const entry = (start: string, minutes: number): CalendarEntry => ({
  taskId: '00000000-0000-4000-8000-000000000001',
  taskName: 'Blank',
  instrumentRef: 'resource:default/plate-reader-1',
  measurementType: 'absorbance-spectrum',
  start,
  end: new Date(Date.parse(start) + minutes * 60_000).toISOString(),
  taskState: 'active',
});

describe('calendarLayout', () => {
  const zone = 'Europe/Berlin';

  it('shows a week from Monday and a day on its own, in the viewer’s zone', () => {
    const anchor = DateTime.fromISO('2027-03-28T15:00', { zone });
    const week = calendarWindow(anchor, 'week');
    expect(week.from.toISO()).toBe('2027-03-22T00:00:00.000+01:00');
    expect(week.to.toISO()).toBe('2027-03-29T00:00:00.000+02:00');
    expect(week.days.map(d => d.toISODate())).toHaveLength(7);
    const day = calendarWindow(anchor, 'day');
    expect(day.days.map(d => d.toISODate())).toEqual(['2027-03-28']);
    expect(day.to.diff(day.from, 'hours').hours).toBe(23); // the short day
  });

  it('places a run by wall clock, at the same height before and after the clocks change', () => {
    const entries = [
      entry('2027-03-27T07:30:00.000Z', 3), // 08:30 CET
      entry('2027-03-28T06:30:00.000Z', 3), // 08:30 CEST
    ];
    const [saturday] = placeEntries(
      entries,
      DateTime.fromISO('2027-03-27', { zone }),
      zone,
    );
    const [sunday] = placeEntries(
      entries,
      DateTime.fromISO('2027-03-28', { zone }),
      zone,
    );
    expect(saturday.top).toBeCloseTo(8.5 / 24);
    expect(sunday.top).toBeCloseTo(saturday.top);
    expect(sunday.height).toBeCloseTo(3 / (24 * 60));
    expect(sunday.start.toFormat('HH:mm')).toBe('08:30');
  });

  it('cuts a run that passes midnight at the end of its day, and leaves other days’ runs out', () => {
    const late = entry('2027-03-27T22:30:00.000Z', 90); // 23:30 → 01:00
    const placed = placeEntries(
      [late],
      DateTime.fromISO('2027-03-27', { zone }),
      zone,
    );
    expect(placed[0].top + placed[0].height).toBeCloseTo(1);
    expect(
      placeEntries([late], DateTime.fromISO('2027-03-28', { zone }), zone),
    ).toEqual([]);
  });
});
