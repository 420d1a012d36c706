/*
 * Queued runs by the instant they were queued (published; created, for a run queued again without a
 * publish). Two sweeps look for queued runs older than a bound, once a minute: the in-process queue's
 * requeue of runs whose process died (DispatchStore.takeLostQueuedRuns) and, with SQS, the end of runs
 * whose message the queue dropped unread at its retention period (RunStateStore.failExpiredQueuedRuns).
 * Without an index both read every run ever kept: 233 ms per sweep at 1,000,000 runs on PostgreSQL, the
 * whole history at 100,000,000. The index is partial: it holds the runs queued now (a run leaves it
 * when it starts), and costs one entry per publish.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.raw(
    `CREATE INDEX lab_scheduler_runs_queued_idx
     ON lab_scheduler_runs ((coalesce(published_at, created_at)))
     WHERE status = 'queued'`,
  );
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.raw('DROP INDEX lab_scheduler_runs_queued_idx');
};
