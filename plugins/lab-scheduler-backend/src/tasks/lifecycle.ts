import {
  firstOccurrenceAtOrAfter,
  TaskSchedule,
  TaskState,
} from '@lab-scheduler/plugin-lab-scheduler-common';

/**
 * The rules of a task's life that the API (TaskService) and the dispatcher's claim (DispatchStore, in
 * JavaScript and in SQL) both apply. Each rule is written once here; `lifecycle.test.ts` checks that the
 * SQL forms answer what the JavaScript ones do, on SQLite and PostgreSQL.
 */

/** Sort key of tasks that will not run again: after every real instant (year 275760). */
export const NEVER_SORT_AT = 8_640_000_000_000_000;

/** The list's sort key: the next run, tasks that will not run again last. */
export function sortKey(nextRunAt: number | null): number {
  return nextRunAt ?? NEVER_SORT_AT;
}

/** `sortKey` in SQL, over a bigint column or expression. */
export function sortKeySql(nextRunAt: string): string {
  return `coalesce(${nextRunAt}, ${NEVER_SORT_AT})`;
}

/** An active task that has no next occurrence is completed. */
export function stateAfterAdvance(
  nextRunAt: number | null,
): 'active' | 'completed' {
  return nextRunAt === null ? 'completed' : 'active';
}

/** `stateAfterAdvance` in SQL, over a bigint column or expression. */
export function stateAfterAdvanceSql(nextRunAt: string): string {
  return `case when ${nextRunAt} is null then 'completed' else 'active' end`;
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
  return { state: stateAfterAdvance(nextRunAt), nextRunAt };
}
