/*
 * "Run now" is bounded: a task has at most one manual run waiting or in progress (pending, queued or
 * running). The database enforces it with a partial unique index, so concurrent triggers on any number of
 * replicas cannot both insert; the API answers the loser with 409. Running is included because a running
 * run that fails with retries left goes back to queued: with two manual runs in the set that transition
 * would violate the index. Runs triggered before this migration have no triggered_by and are not counted.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('lab_scheduler_runs', table => {
    table
      .string('triggered_by', 255)
      .nullable()
      .comment(
        'who asked for this run ("run now"); null for scheduled occurrences',
      );
  });
  await knex.raw(
    `CREATE UNIQUE INDEX lab_scheduler_runs_manual_uniq ON lab_scheduler_runs (task_id)
     WHERE triggered_by IS NOT NULL AND status IN ('pending', 'queued', 'running')`,
  );
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.raw('DROP INDEX lab_scheduler_runs_manual_uniq');
  await knex.schema.alterTable('lab_scheduler_runs', table => {
    table.dropColumn('triggered_by');
  });
};
