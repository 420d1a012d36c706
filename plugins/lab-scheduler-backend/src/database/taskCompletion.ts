import { Knex } from 'knex';
import {
  completedSortKey,
  runUnderWaySql,
  stateAfterAdvanceSql,
} from '../tasks/lifecycle';
import { forEachChunk } from './chunks';
import { nextRunOfSql } from './nextRuns';
import { ACTIVE_RUN_STATUSES, RUNS, TASKS } from './tables';

/*
 * A task that will not run again completes when its last run under way ends (lifecycle.ts). Whatever
 * ends a run — the executor's success or final failure, a dead letter, the lost-executor timeout, a
 * message the queue refuses — does it in one transaction that:
 *   1. locks the run's task (lockTasksOfRuns), BEFORE changing the run;
 *   2. ends the run;
 *   3. completes the task if it has no next run and no other run under way (completeEndedTasks).
 * The dispatcher's claim locks the same task rows (FOR NO KEY UPDATE SKIP LOCKED) before it decides,
 * from the runs under way, whether a task whose last occurrence it takes is completed. Taking the task
 * lock first serialises the two on PostgreSQL (READ COMMITTED): whichever runs second sees the other's
 * committed run. Without it, a run ending while the claim of the task's last occurrence is deciding
 * could leave the task active for ever (each saw the other's run still under way). SQLite has one
 * writer at a time.
 *
 * A task's own writers that decide from its runs take the same lock first (lockTasks): an edit that
 * leaves no next occurrence (DatabaseTaskStore.updateTask) decides completed-or-active from the runs under
 * way, and a "run now" (triggerRun) inserts a pending run, which a claim deciding "completed" must see.
 */

/** Locks these tasks until the transaction ends (PostgreSQL), in id order: no deadlock. */
export async function lockTasks(
  tx: Knex.Transaction,
  taskIds: readonly string[],
): Promise<void> {
  if (tx.client.config.client !== 'pg' || taskIds.length === 0) return;
  await tx.raw(
    `select t.id from ${TASKS} t where t.id = any(?::text[]) order by t.id for no key update of t`,
    // pg sends a JS array as a PostgreSQL array; knex's typings do not know it.
    [[...taskIds]] as unknown as readonly Knex.RawBinding[],
  );
}

/**
 * Per task with a run under way, the latest occurrence such a run runs for (its sort key while it has
 * no next run, lifecycle.ts: the occurrence its last run runs for, as the claim decides it). Tasks with
 * none under way are absent.
 */
export async function occurrencesUnderWay(
  tx: Knex.Transaction,
  taskIds: readonly string[],
): Promise<Map<string, number>> {
  const latest = new Map<string, number>();
  // One bound parameter per task.
  await forEachChunk([...taskIds], 500, async chunk => {
    const rows: { task_id: string; at: number | string }[] = await tx(RUNS)
      .select('task_id')
      .max({ at: 'scheduled_for' })
      .whereIn('task_id', chunk)
      .whereIn('status', ACTIVE_RUN_STATUSES)
      .groupBy('task_id');
    rows.forEach(r => latest.set(r.task_id, Number(r.at)));
  });
  return latest;
}

/** Locks the tasks of these runs until the transaction ends (PostgreSQL), in id order: no deadlock. */
export async function lockTasksOfRuns(
  tx: Knex.Transaction,
  runIds: readonly string[],
): Promise<void> {
  if (tx.client.config.client !== 'pg' || runIds.length === 0) return;
  await tx.raw(
    `select t.id from ${TASKS} t
     where t.id in (select r.task_id from ${RUNS} r where r.id = any(?::text[]))
     order by t.id for no key update of t`,
    // pg sends a JS array as a PostgreSQL array; knex's typings do not know it.
    [runIds] as unknown as readonly Knex.RawBinding[],
  );
}

/**
 * Completes those of the tasks that are active, have no next run and no run under way, with the sort key
 * of a task completed at `nowMs`. Returns how many completed.
 */
export async function completeEndedTasks(
  tx: Knex.Transaction,
  taskIds: readonly string[],
  nowMs: number,
): Promise<number> {
  let completed = 0;
  // One bound parameter per task.
  await forEachChunk([...new Set(taskIds)], 500, async chunk => {
    completed += await tx(TASKS)
      .whereIn('id', chunk)
      .where('state', 'active')
      .whereNull('deleted_at')
      .whereRaw(
        `${stateAfterAdvanceSql(
          nextRunOfSql(`${TASKS}.id`),
          runUnderWaySql(`${TASKS}.id`),
        )} = 'completed'`,
      )
      .update({ state: 'completed', sort_at: completedSortKey(nowMs) });
  });
  return completed;
}
