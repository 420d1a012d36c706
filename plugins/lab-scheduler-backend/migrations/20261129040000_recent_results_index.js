/*
 * Recent results (GET /results): the latest finished runs across tasks, newest first, keyset-paged on
 * (finished_at, id). A partial index holds finished runs only, so pending and queued runs (rewritten on
 * every claim) never touch it; a run enters it once, when it finishes.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.raw(
    `CREATE INDEX lab_scheduler_runs_finished_idx ON lab_scheduler_runs (finished_at, id)
     WHERE finished_at IS NOT NULL`,
  );
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.raw('DROP INDEX lab_scheduler_runs_finished_idx');
};
