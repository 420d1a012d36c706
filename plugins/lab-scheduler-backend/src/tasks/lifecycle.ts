import {
  firstOccurrenceAtOrAfter,
  TaskSchedule,
  TaskState,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { ACTIVE_RUN_STATUSES, RUNS } from '../database/tables';

/**
 * The rules of a task's life that the API (TaskService), the dispatcher's claim (DispatchStore) and the
 * end of a run (taskCompletion) apply. Each rule is written once here, in JavaScript and, where a
 * statement applies it, in SQL; `lifecycle.test.ts` checks that the SQL forms answer what the JavaScript
 * ones do, on SQLite and PostgreSQL.
 *
 * A task is completed only once it will not run again AND none of its runs is under way (pending,
 * queued or running): a one-time task whose run was claimed stays active, with no next run, until that
 * run ends (succeeded, failed, dead-lettered, skipped or cancelled).
 *
 * The list's order (`sort_at`, ascending, served by the list indexes of 20261129020000):
 * 1. tasks with a next run, by that instant — a task whose last run is under way sorts at the instant of
 *    the occurrence it runs for, so a one-time task that just started stays among the first;
 * 2. completed tasks, the latest completed first (`completedSortKey`), so one that just ran is the first
 *    of them (and the first of `state=completed`);
 * 3. paused tasks (`NEVER_SORT_AT`).
 */

/** Sort key of paused (and deleted) tasks: after every real instant (year 275760). */
export const NEVER_SORT_AT = 8_640_000_000_000_000;

/** The list's sort key of a task that is not completed: its next run, paused tasks last. */
export function sortKey(nextRunAt: number | null): number {
  return nextRunAt ?? NEVER_SORT_AT;
}

/**
 * Sort key of a task completed at `completedAt`: below NEVER_SORT_AT and above every instant a schedule
 * can name (at most MAX_SCHEDULE_YEARS_AHEAD = 10 years ahead; NEVER_SORT_AT minus today is year ~273700),
 * decreasing with the completion time so that the latest completed comes first.
 */
export function completedSortKey(completedAt: number): number {
  return NEVER_SORT_AT - completedAt;
}

/** Whether a task has a run under way (pending, queued or running), in SQL, over its id expression. */
export function runUnderWaySql(taskId: string): string {
  return `exists (select 1 from ${RUNS} u where u.task_id = ${taskId} and u.status in (${ACTIVE_RUN_STATUSES.map(
    s => `'${s}'`,
  ).join(', ')}))`;
}

/** An active task completes when it has no next occurrence and no run under way. */
export function stateAfterAdvance(
  nextRunAt: number | null,
  runUnderWay: boolean,
): 'active' | 'completed' {
  return nextRunAt === null && !runUnderWay ? 'completed' : 'active';
}

/** `stateAfterAdvance` in SQL, over a bigint expression and a boolean one. */
export function stateAfterAdvanceSql(
  nextRunAt: string,
  runUnderWay: string,
): string {
  return `case when ${nextRunAt} is null and not (${runUnderWay}) then 'completed' else 'active' end`;
}

/**
 * The sort key after a claim (or an edit, or a "run now"): the next run; with none left, while a run is
 * under way, the instant of the latest occurrence a run under way runs for (`occurrenceAt`: after a
 * catch-up claim of several occurrences, the latest one it started a run for), so the task stays near
 * the top; else the key of a task completed at `nowMs`.
 */
export function sortKeyAfterAdvance(t: {
  nextRunAt: number | null;
  occurrenceAt: number;
  runUnderWay: boolean;
  nowMs: number;
}): number {
  if (t.nextRunAt !== null) return t.nextRunAt;
  return t.runUnderWay ? t.occurrenceAt : completedSortKey(t.nowMs);
}

/** State and next run of an active task from its schedule, as of `nowMs`. */
export function activeTiming(
  schedule: TaskSchedule,
  nowMs: number,
): { state: TaskState; nextRunAt: number | null } {
  // A one-time task keeps its instant even when resumed late: the misfire policy decides what then.
  const nextRunAt =
    schedule.type === 'once'
      ? Date.parse(schedule.at)
      : firstOccurrenceAtOrAfter(schedule, nowMs);
  // A new timing has no claimed occurrence yet: no run of it is under way.
  return { state: stateAfterAdvance(nextRunAt, false), nextRunAt };
}
