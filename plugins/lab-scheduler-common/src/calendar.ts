import {
  builtInMeasurementTypeLookup,
  MeasurementTypeLookup,
} from './measurements';
import { firstOccurrenceAtOrAfter, occurrenceAfter } from './schedule';
import type { RunStatus, TaskSchedule, TaskState } from './types';

/**
 * The instrument calendar, clash warnings and why a run is waiting: the API's shapes and the pure maths
 * behind them. Occurrences come from the same schedule maths as the dispatcher (schedule.ts), so the
 * calendar shows the instants the dispatcher will claim, DST rules included.
 */

/** Length of a run whose measurement type is unknown here (e.g. registered by another module). @public */
export const DEFAULT_EXPECTED_DURATION_SECONDS = 300;

/** Longest window `GET /calendar` answers, in days. @public */
export const MAX_CALENDAR_WINDOW_DAYS = 31;

/** Most entries `GET /calendar` answers (it says `truncated` beyond). @public */
export const MAX_CALENDAR_ENTRIES = 2000;

/** How long a run of a measurement type is expected to hold its instrument, in ms. @public */
export function expectedDurationMs(
  measurementType: string,
  types: MeasurementTypeLookup = builtInMeasurementTypeLookup,
): number {
  const definition = types.get(measurementType);
  return (
    (definition?.expectedDurationSeconds ?? DEFAULT_EXPECTED_DURATION_SECONDS) *
    1000
  );
}

/**
 * The occurrences of a schedule starting in [fromMs, toMs), at most `max` (the dispatcher's instants: see
 * schedule.ts for the DST rules).
 * @public
 */
export function occurrencesBetween(
  schedule: TaskSchedule,
  fromMs: number,
  toMs: number,
  max: number,
): number[] {
  const result: number[] = [];
  let next = firstOccurrenceAtOrAfter(schedule, fromMs);
  while (next !== null && next < toMs && result.length < max) {
    result.push(next);
    next = occurrenceAfter(schedule, next);
  }
  return result;
}

/** One planned run in the calendar. @public */
export interface CalendarEntry {
  taskId: string;
  taskName: string;
  instrumentRef: string;
  measurementType: string;
  /** ISO instants; `end` is `start` plus the measurement type's expected duration. */
  start: string;
  end: string;
  /** A paused task's occurrences are shown as they would run once it is resumed. */
  taskState: Extract<TaskState, 'active' | 'paused'>;
}

/** Answer of `GET /calendar`. @public */
export interface CalendarResponse {
  from: string;
  to: string;
  items: CalendarEntry[];
  /** True when more tasks or occurrences fall in the window than were answered. */
  truncated: boolean;
}

/** A time interval in epoch ms, end exclusive. @public */
export interface Interval {
  start: number;
  end: number;
}

/** How much of `interval` the instrument is already full, given the other runs on it. @public */
export interface IntervalClash {
  /** Time within the interval during which `capacity` or more other runs are on the instrument. */
  overCapacityMs: number;
  /** Indexes (into `others`) of the runs that overlap the interval, each with the overlap in ms. */
  overlaps: { index: number; overlapMs: number }[];
}

/**
 * Where a run in `interval` would find its instrument full: a sweep over the other runs' starts and ends
 * inside the interval. `capacity` null means no limit (never full).
 * @public
 */
export function clashWithin(
  interval: Interval,
  others: Interval[],
  capacity: number | null,
): IntervalClash {
  const overlaps: IntervalClash['overlaps'] = [];
  const edges: { at: number; delta: number }[] = [];
  others.forEach((other, index) => {
    const start = Math.max(other.start, interval.start);
    const end = Math.min(other.end, interval.end);
    if (end <= start) return;
    overlaps.push({ index, overlapMs: end - start });
    edges.push({ at: start, delta: 1 }, { at: end, delta: -1 });
  });
  let overCapacityMs = 0;
  if (capacity !== null) {
    edges.sort((a, b) => a.at - b.at);
    let busy = 0;
    let previous = interval.start;
    for (const edge of edges) {
      if (busy >= capacity) overCapacityMs += edge.at - previous;
      busy += edge.delta;
      previous = edge.at;
    }
  }
  return { overCapacityMs, overlaps };
}

/** Body of `POST /calendar/clashes`: a draft schedule on an instrument. @public */
export interface ClashRequest {
  instrumentRef: string;
  measurementType: string;
  schedule: TaskSchedule;
  /** The task being edited: its own runs are not counted against the draft. */
  taskId?: string;
  /** How many of the draft's next occurrences to check (default 5, as the form's preview). */
  count?: number;
}

/** Another run the draft's occurrence overlaps. `task` is null for a task the caller may not read. @public */
export interface ClashOverlap {
  start: string;
  end: string;
  overlapMs: number;
  task: { id: string; name: string } | null;
}

/** One of the draft's occurrences and what it collides with. @public */
export interface OccurrenceClash {
  start: string;
  end: string;
  /** How long the instrument is already full during this run (0: no clash). */
  overCapacityMs: number;
  overlaps: ClashOverlap[];
}

/** Answer of `POST /calendar/clashes`. @public */
export interface ClashReport {
  instrumentRef: string;
  /** Runs the instrument takes at once; null for no limit. */
  capacity: number | null;
  durationMs: number;
  occurrences: OccurrenceClash[];
}

/** Why a run has not started yet. @public */
export type WaitingReasonCode =
  | 'not-due'
  | 'instrument-busy'
  | 'publish-retry'
  | 'dispatching'
  | 'queued';

/** A pending or queued run's reason for waiting, for people. @public */
export interface WaitingReason {
  runId: string;
  status: Extract<RunStatus, 'pending' | 'queued'>;
  code: WaitingReasonCode;
  /** E.g. "Waiting for plate-reader-1 (1 run at a time, 1 in progress), 2 runs ahead". */
  message: string;
  instrumentRef: string;
  capacity: number | null;
  /** Runs holding a slot of the instrument (sent to or running on it). */
  busy: number;
  /** Runs on the instrument that are due, waiting, and ahead of this one in line. */
  ahead: number;
}
