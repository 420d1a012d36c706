/*
 * Queued runs by the instant they were queued (published; created, for a row from before runs recorded
 * their publish). Two sweeps look for runs queued since before a bound, once a minute: the in-process
 * queue's requeue of runs whose process died (DispatchStore.takeLostQueuedRuns) and, with SQS, the end of
 * runs whose message the queue no longer keeps (RunStateStore.failExpiredQueuedRuns). Without an index
 * both read every run ever kept: 233 ms per sweep at 1,000,000 runs on PostgreSQL, the whole history at
 * 100,000,000. The index is partial: it holds the runs queued now (a run leaves it when it starts), and
 * costs one entry each time a run becomes queued (its publish, a retry).
 *
 * On PostgreSQL it is built CONCURRENTLY, outside a transaction: a plain CREATE INDEX would block every
 * write to the runs (claims, publishes, reports) for as long as it reads the whole table.
 */

// @ts-check

const INDEX = 'lab_scheduler_runs_queued_idx';

exports.config = { transaction: false };

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  const concurrently = knex.client.config.client === 'pg' ? 'CONCURRENTLY' : '';
  // An index left by an earlier attempt that failed half-way is invalid (CONCURRENTLY does not roll
  // back): this migration was not recorded as applied, so any index of this name is such a leftover.
  await knex.raw(`DROP INDEX ${concurrently} IF EXISTS ${INDEX}`);
  await knex.raw(
    `CREATE INDEX ${concurrently} ${INDEX}
     ON lab_scheduler_runs ((coalesce(published_at, created_at)))
     WHERE status = 'queued'`,
  );
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.raw(`DROP INDEX IF EXISTS ${INDEX}`);
};
