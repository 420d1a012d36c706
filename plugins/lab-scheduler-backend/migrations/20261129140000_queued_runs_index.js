/*
 * Queued runs by the instant they were queued (published; created, for a row from before runs recorded
 * their publish). Two sweeps look for runs queued since before a bound, once a minute: the in-process
 * queue's requeue of runs whose process died (DispatchStore.takeLostQueuedRuns) and, with SQS, the end of
 * runs whose message the queue no longer keeps (RunStateStore.failExpiredQueuedRuns). Without an index
 * both read every run ever kept: 233 ms per sweep at 1,000,000 runs on PostgreSQL, the whole history at
 * 100,000,000. The index is partial: it holds the runs queued now (a run leaves it when it starts), and
 * costs one entry each time a run becomes queued (its publish, a retry).
 *
 * Built in the migration's transaction, like every index before it: knex runs a batch that holds a
 * migration without one (as CREATE INDEX CONCURRENTLY needs) under a lock row that a replica killed
 * mid-way leaves taken, and the other replicas starting meanwhile fail instead of waiting. While it is
 * built, writes to the runs wait (PostgreSQL reads the whole table once: 0.36 s for 1,000,000 runs
 * here). For a large history, build it beforehand without blocking anything, with this same statement
 * and CONCURRENTLY (docs/runbook.md, "Upgrading"); IF NOT EXISTS then keeps it.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.raw(
    `CREATE INDEX IF NOT EXISTS lab_scheduler_runs_queued_idx
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
