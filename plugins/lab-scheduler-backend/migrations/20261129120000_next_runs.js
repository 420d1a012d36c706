/*
 * Each task's next run moves out of the task row into a table of its own, lab_scheduler_next_runs: one
 * row per task that is active, not deleted and has an occurrence left, holding that occurrence's instant.
 * The table is the dispatcher's queue of due tasks (its index on next_run_at is what a claim scans).
 *
 * Why: a claim that starts a one-time task's run changed nothing of the task row but next_run_at (its
 * state stays active and its sort key stays the occurrence while the run is under way), yet that one
 * indexed column made each claim a non-HOT update: a new task tuple (the widest row of the schema) and an
 * entry in each of its six indexes, per run. Now that claim deletes the task's row here (no index entry
 * is written for a delete) and leaves the task row alone: the claim round's WAL per run fell from 16.3
 * records / 3,042 bytes to 11.2 / 1,735 (`bench/claimWal.ts`), the database-path drain rose by about a
 * fifth (docs/benchmark.md). A recurring task's claim updates this row (two small index entries) and, as
 * before, the task row for its new sort key.
 *
 * PostgreSQL: task_id compares bytes (COLLATE "C"), as every id column does (20261128000000); no foreign
 * key, as on the runs: tasks are never deleted (only soft-deleted), and a next run is only written with
 * its task row locked.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  const isPostgres = knex.client.config.client === 'pg';
  await knex.schema.createTable('lab_scheduler_next_runs', table => {
    table.string('task_id', 36).notNullable().primary();
    table
      .bigInteger('next_run_at')
      .notNullable()
      .comment('the instant of the task’s next occurrence (epoch ms)');
    table.index(['next_run_at'], 'lab_scheduler_next_runs_due_idx');
  });
  if (isPostgres) {
    await knex.raw(
      'ALTER TABLE lab_scheduler_next_runs ALTER COLUMN task_id TYPE varchar(36) COLLATE "C"',
    );
  }
  await knex.raw(
    `INSERT INTO lab_scheduler_next_runs (task_id, next_run_at)
     SELECT id, next_run_at FROM lab_scheduler_tasks
     WHERE next_run_at IS NOT NULL AND state = 'active' AND deleted_at IS NULL`,
  );
  await knex.raw('DROP INDEX lab_scheduler_tasks_due_idx');
  // SQLite (3.35+) drops a column that no index or constraint names in place, as PostgreSQL does.
  await knex.raw('ALTER TABLE lab_scheduler_tasks DROP COLUMN next_run_at');
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('lab_scheduler_tasks', table => {
    table.bigInteger('next_run_at').nullable();
  });
  await knex.raw(
    `UPDATE lab_scheduler_tasks SET next_run_at = (
       SELECT n.next_run_at FROM lab_scheduler_next_runs n WHERE n.task_id = lab_scheduler_tasks.id)`,
  );
  await knex.raw(
    `CREATE INDEX lab_scheduler_tasks_due_idx ON lab_scheduler_tasks (next_run_at)
     WHERE state = 'active' AND deleted_at IS NULL`,
  );
  await knex.schema.dropTable('lab_scheduler_next_runs');
};
