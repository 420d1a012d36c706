import { Knex } from 'knex';
import { forEachChunk } from './chunks';
import { NEXT_RUNS } from './tables';

/*
 * Each task's next run lives in NEXT_RUNS, one row per task that has one (active, not deleted, an
 * occurrence left), not in the task row: the claim of a one-time task's occurrence then deletes a small
 * row instead of rewriting the task's (migration 20261129120000). Whoever changes a task's next run
 * holds the task row's lock (an UPDATE of it, or lockTasks / the claim's FOR NO KEY UPDATE), so two
 * writers of one task's next run never interleave.
 */

/** A task's next run as of a change: null when it has none. */
export interface NextRun {
  taskId: string;
  nextRunAt: number | null;
}

/** Writes these tasks' next runs: stores each instant, removes the row of each task that has none. */
export async function writeNextRuns(
  db: Knex | Knex.Transaction,
  nextRuns: readonly NextRun[],
): Promise<void> {
  const ended = nextRuns.filter(n => n.nextRunAt === null).map(n => n.taskId);
  const due = nextRuns
    .filter(n => n.nextRunAt !== null)
    .map(n => ({ task_id: n.taskId, next_run_at: n.nextRunAt }));
  // One bound parameter per ended task, two per due one.
  await forEachChunk(ended, 500, chunk =>
    db(NEXT_RUNS).whereIn('task_id', chunk).delete(),
  );
  await forEachChunk(due, 500, chunk =>
    db(NEXT_RUNS).insert(chunk).onConflict('task_id').merge(['next_run_at']),
  );
}

/** The next run of each of these tasks that has one. */
export async function readNextRuns(
  db: Knex | Knex.Transaction,
  taskIds: readonly string[],
): Promise<Map<string, number>> {
  const nextRuns = new Map<string, number>();
  // One bound parameter per task.
  await forEachChunk([...taskIds], 500, async chunk => {
    const rows: { task_id: string; next_run_at: string | number }[] = await db(
      NEXT_RUNS,
    )
      .select('task_id', 'next_run_at')
      .whereIn('task_id', chunk);
    rows.forEach(r => nextRuns.set(r.task_id, Number(r.next_run_at)));
  });
  return nextRuns;
}

/** SQL: the next run of the task whose id is `taskId` (an SQL expression), or null. */
export function nextRunOfSql(taskId: string): string {
  return `(select n.next_run_at from ${NEXT_RUNS} n where n.task_id = ${taskId})`;
}
