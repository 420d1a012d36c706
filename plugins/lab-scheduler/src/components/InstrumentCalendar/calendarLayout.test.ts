import type { CalendarEntry } from '@lab-scheduler/plugin-lab-scheduler-common';
import { DateTime } from 'luxon';
import {
  calendarWindow,
  LaidOutEntry,
  layoutLanes,
  placeEntries,
} from './calendarLayout';

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

  describe('layoutLanes', () => {
    // As the component draws it: 36 px an hour, blocks at least 16 px high.
    const minHeight = 16 / (24 * 36);
    const day = DateTime.fromISO('2027-03-24', { zone });
    const at = (time: string, minutes: number) =>
      entry(DateTime.fromISO(`2027-03-24T${time}`, { zone }).toISO()!, minutes);
    const layOut = (entries: CalendarEntry[]) =>
      layoutLanes(placeEntries(entries, day, zone), minHeight);
    const byTime = (blocks: LaidOutEntry[]) =>
      new Map(blocks.map(b => [b.start.toFormat('HH:mm'), b]));

    /** No two blocks share area as drawn: overlapping vertically means apart horizontally. */
    const expectNoOverlap = (blocks: LaidOutEntry[]) => {
      const eps = 1e-9;
      for (const a of blocks) {
        for (const b of blocks) {
          if (a === b) continue;
          const aBottom = a.top + Math.max(a.height, minHeight);
          const bBottom = b.top + Math.max(b.height, minHeight);
          const vertical = a.top < bBottom - eps && b.top < aBottom - eps;
          const horizontal =
            a.left < b.left + b.width - eps && b.left < a.left + a.width - eps;
          expect({
            a: a.entry.start,
            b: b.entry.start,
            overlap: vertical && horizontal,
          }).toEqual({
            a: a.entry.start,
            b: b.entry.start,
            overlap: false,
          });
        }
      }
    };

    it('puts 13 one-minute runs a minute apart side by side, as their minimum-height blocks overlap', () => {
      const entries = Array.from({ length: 13 }, (_, i) =>
        at(`07:${String(i + 1).padStart(2, '0')}`, 1),
      );
      const blocks = layOut(entries);
      expect(blocks).toHaveLength(13);
      expectNoOverlap(blocks);
      // A 16 px block spans ~27 minutes, so all 13 overlap one another.
      expect(blocks.map(b => b.lane)).toEqual([...Array(13).keys()]);
      for (const b of blocks) {
        expect(b.lanes).toBe(13);
        expect(b.width).toBeCloseTo(1 / 13);
        expect(b.left).toBeCloseTo(b.lane / 13);
      }
    });

    it('gives two runs at the same instant a lane each, the longer first', () => {
      const short = { ...at('09:00', 10), taskName: 'Short' };
      const long = { ...at('09:00', 60), taskName: 'Long' };
      const blocks = layOut([short, long]);
      expectNoOverlap(blocks);
      expect(
        blocks.map(b => [b.entry.taskName, b.lane, b.lanes, b.left, b.width]),
      ).toEqual([
        ['Long', 0, 2, 0, 0.5],
        ['Short', 1, 2, 0.5, 0.5],
      ]);
    });

    it('leaves runs that do not overlap at full width, including back-to-back runs', () => {
      const blocks = layOut([
        at('09:00', 60),
        at('10:00', 60), // starts as the first ends
        at('12:00', 1), // drawn to ~12:27
        at('12:30', 5),
      ]);
      expect(blocks).toHaveLength(4);
      for (const b of blocks) {
        expect([b.lane, b.lanes, b.left, b.width]).toEqual([0, 1, 0, 1]);
      }
    });

    it('gives a chain of overlaps one lane count, letting its ends share a lane', () => {
      // A 09:00–10:00 overlaps B 09:30–10:30, which overlaps C 10:15–11:00; A and C do not overlap.
      const blocks = byTime(
        layOut([at('09:30', 60), at('10:15', 45), at('09:00', 60)]),
      );
      const [a, b, c] = ['09:00', '09:30', '10:15'].map(t => blocks.get(t)!);
      expectNoOverlap([a, b, c]);
      expect([a.lane, b.lane, c.lane]).toEqual([0, 1, 0]);
      expect([a.lanes, b.lanes, c.lanes]).toEqual([2, 2, 2]);
      expect(b.left).toBe(0.5);
      // A run after the chain starts a new cluster at full width.
      const later = layOut([at('09:00', 60), at('09:30', 60), at('11:00', 30)]);
      expect(later.map(x => x.lanes)).toEqual([2, 2, 1]);
    });
  });
});
