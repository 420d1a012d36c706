/*
 * The audit trail of run events: who reported what about a run, and when — every start, result and
 * failure the executor reports, and every report that was refused (a superseded or missing claim token,
 * a run already finished). Kept apart from the task audit, which a task running every minute would
 * otherwise flood. Append-only, enforced by the database like the task audit.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('lab_scheduler_run_events', table => {
    table.comment(
      'Append-only audit trail of run events reported by executors',
    );
    table.bigIncrements('seq').primary();
    table.string('run_id', 36).notNullable();
    table.string('task_id', 36).notNullable();
    table.bigInteger('at').notNullable();
    table.string('actor', 255).notNullable();
    table
      .string('event', 16)
      .notNullable()
      .comment('started, succeeded, failed');
    table
      .boolean('accepted')
      .notNullable()
      .comment('false: the report was refused and changed nothing');
    table
      .string('status', 16)
      .notNullable()
      .comment("the run's status after it");
    table
      .text('detail')
      .nullable()
      .comment('JSON: attempt, error, QC verdict, why refused');
    table.index(['run_id', 'seq'], 'lab_scheduler_run_events_run_idx');
  });
  if (knex.client.config.client === 'pg') {
    await knex.raw(`
      CREATE FUNCTION lab_scheduler_run_events_immutable() RETURNS trigger AS $$
      BEGIN
        RAISE EXCEPTION 'lab_scheduler_run_events is append-only';
      END;
      $$ LANGUAGE plpgsql;
    `);
    await knex.raw(`
      CREATE TRIGGER lab_scheduler_run_events_no_change
      BEFORE UPDATE OR DELETE ON lab_scheduler_run_events
      FOR EACH ROW EXECUTE FUNCTION lab_scheduler_run_events_immutable();
    `);
  } else {
    await knex.raw(`
      CREATE TRIGGER lab_scheduler_run_events_no_update BEFORE UPDATE ON lab_scheduler_run_events
      BEGIN SELECT RAISE(ABORT, 'lab_scheduler_run_events is append-only'); END;
    `);
    await knex.raw(`
      CREATE TRIGGER lab_scheduler_run_events_no_delete BEFORE DELETE ON lab_scheduler_run_events
      BEGIN SELECT RAISE(ABORT, 'lab_scheduler_run_events is append-only'); END;
    `);
  }
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  if (knex.client.config.client === 'pg') {
    await knex.raw(
      'DROP TRIGGER IF EXISTS lab_scheduler_run_events_no_change ON lab_scheduler_run_events',
    );
    await knex.raw(
      'DROP FUNCTION IF EXISTS lab_scheduler_run_events_immutable()',
    );
  }
  await knex.schema.dropTable('lab_scheduler_run_events');
};
