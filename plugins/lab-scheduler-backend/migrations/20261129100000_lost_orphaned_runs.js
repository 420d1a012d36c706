/*
 * Runs left under way long ago by a process that died end now, as lost, instead of being measured weeks
 * late or staying under way for ever; their tasks complete.
 *
 * 20261129060000_task_completion made a completed task active again while a run of it is pending, queued
 * or running. Such a run may have been left behind weeks before (a process died before the lost-run
 * and lost-queued-run sweeps existed, or a backend stayed down that long). What the sweeps then do with
 * it (migrations.test.ts shows it):
 * - running: the stale-run sweep fails it after the lost-run timeout and its task completes: harmless;
 * - queued, in-process queue: the lost-queued-run sweep hands it to the executor: the instrument
 *   measures weeks after the occurrence;
 * - queued, SQS: nothing; its message expired with the queue's retention, so it stays queued, and its
 *   task active at the top of the list, for ever;
 * - pending: the dispatcher claims it again (its lease expired long ago) and publishes it: measured
 *   weeks late.
 * 20261129060000 has run on databases already and keeps its effect there; this one, after it, ends those
 * runs wherever they are.
 *
 * Lost: under way with no sign of life (created, claimed, leased, published, started) for LOST_AFTER_MS.
 * No live run goes that long without one: a dispatcher renews a pending run's lease or release time
 * every round (leases of seconds, publish backoffs of a minute at most); SQS keeps a queued run's
 * message 14 days at most; the stale-run sweep fails a running run after the lost-run timeout (hours).
 * A lost run ends as failed, as the stale-run sweep ends one, at its last sign of life: the run notifier,
 * whose position is past that instant, announces no weeks-old failure, and its task sorts among the tasks
 * completed then, not first of them. Its task completes (taskCompletion.ts) if it has no next run and
 * nothing else under way, sorting as 20261129060000 sorts completed tasks: by the end of its last run.
 *
 * Data only. Down changes nothing: which runs this ended is not recorded, and putting them back under way
 * would have them measured weeks late again.
 */

// @ts-check

/** SQS's longest message retention: a run's message cannot outlive it. */
const LOST_AFTER_MS = 14 * 24 * 3_600_000;
/** lifecycle.ts NEVER_SORT_AT (migrations keep their own literals: they are history). */
const NEVER_SORT_AT = '8640000000000000';
const UNDER_WAY = ['pending', 'queued', 'running'];
const SIGNS_OF_LIFE = [
  'created_at',
  'claimed_at',
  'lease_expires_at',
  'published_at',
  'started_at',
];

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  const lostBefore = Date.now() - LOST_AFTER_MS;
  // One sequential scan of the runs (no index serves status IN (…) with created_at): a minute or so per
  // hundred million runs, once, at the upgrade.
  /** @type {Record<string, string | number | null>[]} */
  const candidates = await knex('lab_scheduler_runs')
    .select('id', 'task_id', ...SIGNS_OF_LIFE)
    .whereIn('status', UNDER_WAY)
    .where('created_at', '<', lostBefore);
  const lost = candidates
    .map(run => ({
      id: String(run.id),
      taskId: String(run.task_id),
      lastSign: Math.max(...SIGNS_OF_LIFE.map(c => Number(run[c] ?? 0))),
    }))
    .filter(run => run.lastSign < lostBefore);
  const taskIds = [...new Set(lost.map(run => run.taskId))];
  if (knex.client.config.client === 'pg' && taskIds.length > 0) {
    // As whatever ends a run does (taskCompletion.ts): its task is locked first, so a "run now" of it
    // (an older replica during a rolling upgrade; it takes the same lock) either committed before, and
    // the completion below sees its run, or waits for this migration and reactivates the task.
    await knex.raw(
      'select id from lab_scheduler_tasks where id = any(?) order by id for no key update',
      [taskIds],
    );
  }
  // Few rows (runs nobody looked after for weeks): one statement each.
  for (const run of lost) {
    await knex('lab_scheduler_runs')
      .where('id', run.id)
      .whereIn('status', UNDER_WAY)
      .update({
        status: 'failed',
        finished_at: run.lastSign,
        error: `Lost: no sign of life since ${new Date(
          run.lastSign,
        ).toISOString()} (its process died); ended by an upgrade instead of being measured that late`,
        slot: null,
        claimed_by: null,
        lease_expires_at: null,
      });
  }
  // 500 bound parameters per statement: under SQLite's limit.
  for (let i = 0; i < taskIds.length; i += 500) {
    await knex.raw(
      `update lab_scheduler_tasks set state = 'completed', sort_at = ${NEVER_SORT_AT} - coalesce(
          (select max(r.finished_at) from lab_scheduler_runs r where r.task_id = lab_scheduler_tasks.id),
          updated_at)
       where id in (${taskIds
         .slice(i, i + 500)
         .map(() => '?')
         .join(', ')})
         and state = 'active' and next_run_at is null and deleted_at is null
         and not exists (select 1 from lab_scheduler_runs r
                         where r.task_id = lab_scheduler_tasks.id
                           and r.status in ('pending', 'queued', 'running'))`,
      taskIds.slice(i, i + 500),
    );
  }
};

/**
 * @param {import('knex').Knex} _knex
 */
exports.down = async function down(_knex) {
  // Nothing to undo (see above).
};
