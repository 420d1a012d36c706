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

/** A placed run with its side-by-side lane among the runs it overlaps in its column. */
export interface LaidOutEntry extends PlacedEntry {
  /** 0-based lane within its cluster of overlapping blocks. */
  lane: number;
  /** How many lanes its cluster needs; every block of a cluster has the same count. */
  lanes: number;
  /** 0..1 of the column from its left edge: `lane / lanes`. */
  left: number;
  /** 0..1 of the column: `1 / lanes`. */
  width: number;
}

/** Below this (as a fraction of the day, ~1 ms) two edges count as touching, not overlapping. */
const EPSILON = 1e-8;

/**
 * The standard calendar overlap layout for the blocks of one column (one instrument on one day): blocks
 * that overlap as drawn — from `top` to `top + max(height, minHeight)`, so short runs stretched to the
 * minimum block size count by their drawn extent — form clusters; within a cluster each block takes the
 * first free lane (by start, longer first), and shares the column's width with the cluster's other lanes.
 * Returns the blocks in that order (by start), which is also the order keyboard focus moves through them.
 *
 * @param minHeight - the smallest drawn block height, as a fraction of the column's height.
 */
export function layoutLanes(
  placed: PlacedEntry[],
  minHeight = 0,
): LaidOutEntry[] {
  const bottomOf = (p: PlacedEntry) => p.top + Math.max(p.height, minHeight);
  const sorted = placed
    .map((p, index) => ({ p, index, bottom: bottomOf(p) }))
    .sort(
      (a, b) =>
        a.p.top - b.p.top ||
        b.bottom - b.p.top - (a.bottom - a.p.top) ||
        a.index - b.index,
    );

  const result: LaidOutEntry[] = [];
  let cluster: LaidOutEntry[] = [];
  /** The bottom of the last block in each lane of the current cluster. */
  let laneBottoms: number[] = [];
  let clusterBottom = -Infinity;
  const closeCluster = () => {
    for (const block of cluster) {
      block.lanes = laneBottoms.length;
      block.left = block.lane / block.lanes;
      block.width = 1 / block.lanes;
    }
    cluster = [];
    laneBottoms = [];
  };

  for (const { p, bottom } of sorted) {
    if (p.top >= clusterBottom - EPSILON) closeCluster();
    let lane = laneBottoms.findIndex(b => p.top >= b - EPSILON);
    if (lane === -1) lane = laneBottoms.length;
    laneBottoms[lane] = bottom;
    clusterBottom = cluster.length ? Math.max(clusterBottom, bottom) : bottom;
    const block: LaidOutEntry = { ...p, lane, lanes: 1, left: 0, width: 1 };
    cluster.push(block);
    result.push(block);
  }
  closeCluster();
  return result;
}
