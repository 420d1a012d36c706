/*
 * Lab Scheduler schema. Times are epoch milliseconds in BIGINT columns: the same exact representation
 * on SQLite and PostgreSQL, cheap to index and compare, and millisecond-precise as the API promises.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('lab_scheduler_tasks', table => {
    table.comment('Measurement tasks of the Lab Scheduler');
    table.string('id', 36).primary().notNullable();
    table.text('name').notNullable();
    table.text('description').notNullable().defaultTo('');
    table.string('instrument_ref', 255).notNullable();
    table.string('owner', 255).notNullable();
    table.string('measurement_type', 100).notNullable();
    table.text('measurement_parameters').notNullable().comment('JSON');
    table.string('schedule_type', 10).notNullable();
    table.text('schedule').notNullable().comment('JSON, normalised');
    table.string('state', 16).notNullable();
    table
      .bigInteger('next_run_at')
      .nullable()
      .comment('epoch ms; null when not due again');
    table
      .bigInteger('sort_at')
      .notNullable()
      .comment(
        'next_run_at, or a far-future value: the keyset of the upcoming list',
      );
    table.integer('version').notNullable().defaultTo(1);
    table.bigInteger('created_at').notNullable();
    table.string('created_by', 255).notNullable();
    table.bigInteger('updated_at').notNullable();
    table.string('updated_by', 255).notNullable();
    table.bigInteger('deleted_at').nullable();
    table.index(['sort_at', 'id'], 'lab_scheduler_tasks_sort_idx');
    table.index(['state', 'next_run_at'], 'lab_scheduler_tasks_due_idx');
    table.index(['instrument_ref'], 'lab_scheduler_tasks_instrument_idx');
    table.index(['owner'], 'lab_scheduler_tasks_owner_idx');
  });

  await knex.schema.createTable('lab_scheduler_runs', table => {
    table.comment('One row per scheduled occurrence of a task');
    table.string('id', 36).primary().notNullable();
    table
      .string('task_id', 36)
      .notNullable()
      .references('id')
      .inTable('lab_scheduler_tasks');
    table.bigInteger('scheduled_for').notNullable();
    table.string('status', 16).notNullable();
    table.integer('attempt').notNullable().defaultTo(0);
    table.string('claimed_by', 255).nullable();
    table.bigInteger('claimed_at').nullable();
    table.bigInteger('lease_expires_at').nullable();
    table.bigInteger('published_at').nullable();
    table.bigInteger('started_at').nullable();
    table.bigInteger('finished_at').nullable();
    table.text('result').nullable().comment('JSON');
    table.text('error').nullable();
    table.bigInteger('created_at').notNullable();
    table.unique(['task_id', 'scheduled_for'], {
      indexName: 'lab_scheduler_runs_occurrence_uniq',
    });
    // The unique occurrence index also serves a task's run history (task_id, scheduled_for).
    table.index(
      ['status', 'lease_expires_at'],
      'lab_scheduler_runs_status_idx',
    );
  });

  await knex.schema.createTable('lab_scheduler_audit', table => {
    table.comment('Append-only audit trail of task changes');
    table.bigIncrements('seq').primary();
    table.string('task_id', 36).notNullable();
    table.bigInteger('at').notNullable();
    table.string('actor', 255).notNullable();
    table.string('action', 16).notNullable();
    table.text('before').nullable().comment('JSON snapshot');
    table.text('after').nullable().comment('JSON snapshot');
    table.index(['task_id', 'seq'], 'lab_scheduler_audit_task_idx');
  });

  // Append-only is enforced by the database, not only by the code.
  if (knex.client.config.client === 'pg') {
    await knex.raw(`
      CREATE FUNCTION lab_scheduler_audit_immutable() RETURNS trigger AS $$
      BEGIN
        RAISE EXCEPTION 'lab_scheduler_audit is append-only';
      END;
      $$ LANGUAGE plpgsql;
    `);
    await knex.raw(`
      CREATE TRIGGER lab_scheduler_audit_no_change
      BEFORE UPDATE OR DELETE ON lab_scheduler_audit
      FOR EACH ROW EXECUTE FUNCTION lab_scheduler_audit_immutable();
    `);
  } else if (knex.client.config.client.includes('sqlite')) {
    await knex.raw(`
      CREATE TRIGGER lab_scheduler_audit_no_update BEFORE UPDATE ON lab_scheduler_audit
      BEGIN SELECT RAISE(ABORT, 'lab_scheduler_audit is append-only'); END;
    `);
    await knex.raw(`
      CREATE TRIGGER lab_scheduler_audit_no_delete BEFORE DELETE ON lab_scheduler_audit
      BEGIN SELECT RAISE(ABORT, 'lab_scheduler_audit is append-only'); END;
    `);
  }
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  if (knex.client.config.client === 'pg') {
    await knex.raw(
      'DROP TRIGGER IF EXISTS lab_scheduler_audit_no_change ON lab_scheduler_audit',
    );
    await knex.raw('DROP FUNCTION IF EXISTS lab_scheduler_audit_immutable()');
  }
  await knex.schema.dropTable('lab_scheduler_audit');
  await knex.schema.dropTable('lab_scheduler_runs');
  await knex.schema.dropTable('lab_scheduler_tasks');
};
