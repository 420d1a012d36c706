/*
 * Per-task notification setting (policies.notify): whom the owner hears from when runs finish — off,
 * failures (QC fail, failed, dead-lettered) or every_run. Existing tasks get failures, the default. The
 * notifier's state: how far it has read the finished runs, and when it last notified each task's owner
 * (at most one notification per task per window).
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('lab_scheduler_tasks', table => {
    table
      .string('notify_policy', 16)
      .notNullable()
      .defaultTo('failures')
      .comment('off | failures | every_run');
  });
  await knex.schema.createTable('lab_scheduler_notification_state', table => {
    table.comment(
      'How far the run notifier has read finished runs (one row, id = 1)',
    );
    table.integer('id').primary();
    table.bigInteger('finished_at').notNullable();
    table.string('run_id', 36).notNullable();
  });
  await knex.schema.createTable('lab_scheduler_task_notifications', table => {
    table.comment('When the owner of each task was last notified');
    table.string('task_id', 36).primary();
    table.bigInteger('last_sent_at').notNullable();
    table
      .integer('suppressed')
      .notNullable()
      .defaultTo(0)
      .comment('runs not notified since last_sent_at (storm window)');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('lab_scheduler_task_notifications');
  await knex.schema.dropTable('lab_scheduler_notification_state');
  await knex.schema.alterTable('lab_scheduler_tasks', table => {
    table.dropColumn('notify_policy');
  });
};
