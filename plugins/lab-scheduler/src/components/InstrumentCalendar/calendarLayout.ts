import type { CalendarEntry } from '@lab-scheduler/plugin-lab-scheduler-common';
import { DateTime } from 'luxon';

/**
 * Where the calendar draws each run: in the viewer's zone, by wall clock — a run at 09:00 sits at 09:00 on
 * every day, including the 23- and 25-hour days of DST changes (the instants come from the server, which
 * computed them with the dispatcher's maths).
 */

export type CalendarView = 'day' | 'week';

const MINUTES_PER_DAY = 24 * 60;

/** The window shown for `anchor`: its day, or its week from Monday, in the viewer's zone. */
export function calendarWindow(
  anchor: DateTime,
  view: CalendarView,
): { from: DateTime; to: DateTime; days: DateTime[] } {
  const from = anchor.startOf(view === 'day' ? 'day' : 'week');
  const count = view === 'day' ? 1 : 7;
  const days = Array.from({ length: count }, (_, i) => from.plus({ days: i }));
  return { from, to: from.plus({ days: count }), days };
}

/** A run's block within one day column: offsets as fractions of the day, by wall-clock minutes. */
export interface PlacedEntry {
  entry: CalendarEntry;
  start: DateTime;
  end: DateTime;
  /** 0..1 from the top of the day column. */
  top: number;
  /** 0..1 of the day column; runs past midnight are cut at the day's end. */
  height: number;
}

function wallMinutes(time: DateTime): number {
  return time.hour * 60 + time.minute + time.second / 60;
}

/** The runs starting on `day` (viewer's zone), placed by wall clock. */
export function placeEntries(
  entries: CalendarEntry[],
  day: DateTime,
  zone: string,
): PlacedEntry[] {
  const dayKey = day.toISODate();
  return entries.flatMap(entry => {
    const start = DateTime.fromISO(entry.start, { zone });
    if (start.toISODate() !== dayKey) return [];
    const end = DateTime.fromISO(entry.end, { zone });
    const startMinutes = wallMinutes(start);
    const endMinutes =
      end.toISODate() === dayKey ? wallMinutes(end) : MINUTES_PER_DAY;
    return [
      {
        entry,
        start,
        end,
        top: startMinutes / MINUTES_PER_DAY,
        height: Math.max(endMinutes - startMinutes, 0) / MINUTES_PER_DAY,
      },
    ];
  });
}
