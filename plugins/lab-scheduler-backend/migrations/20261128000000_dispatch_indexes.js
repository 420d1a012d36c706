/*
 * Indexes shaped for the dispatcher's hot path (measured with `npm run bench`, docs/benchmark.md).
 *
 * - Due tasks: a partial index on exactly the claim's predicate ("active, not deleted, due by T, earliest
 *   first"). The planner has one obvious plan even before the table has statistics (a freshly loaded
 *   table otherwise got a bitmap scan of every due row plus a sort, per claim), and completed, paused
 *   and deleted tasks hold no entries.
 * - Runs: every index entry is written again when a run changes status (no HOT update), so the run
 *   indexes only hold what is looked up: pending runs by the instant they become claimable (lease end,
 *   0 when unleased; one ordered range scan that stops at the batch size), running runs by start
 *   (stale-run sweep), and slots that are held (the instrument guard). History lookups use the primary
 *   key and the (task_id, scheduled_for) occurrence key.
 * - PostgreSQL: ids (ASCII UUIDs) and entity refs are only compared for equality and keyset order, so
 *   their indexes compare bytes (COLLATE "C") rather than going through the database's locale; and runs.task_id has no foreign key: tasks are never deleted (only soft-deleted), runs are
 *   created only from a locked task row, and the per-row check cost a tenth of the claim.
 */

// @ts-check

/**
 * The collation of the id and entity-ref columns (PostgreSQL).
 * @param {import('knex').Knex} knex
 * @param {string} collation
 */
async function setKeyCollation(knex, collation) {
  await knex.raw(`
    ALTER TABLE lab_scheduler_tasks ALTER COLUMN id TYPE varchar(36) COLLATE ${collation},
      ALTER COLUMN owner TYPE varchar(255) COLLATE ${collation},
      ALTER COLUMN instrument_ref TYPE varchar(255) COLLATE ${collation};
    ALTER TABLE lab_scheduler_runs ALTER COLUMN id TYPE varchar(36) COLLATE ${collation},
      ALTER COLUMN task_id TYPE varchar(36) COLLATE ${collation},
      ALTER COLUMN instrument_ref TYPE varchar(255) COLLATE ${collation};
    ALTER TABLE lab_scheduler_audit ALTER COLUMN task_id TYPE varchar(36) COLLATE ${collation};
  `);
}

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  const isPostgres = knex.client.config.client === 'pg';
  await knex.schema.alterTable('lab_scheduler_tasks', table => {
    table.dropIndex(['state', 'next_run_at'], 'lab_scheduler_tasks_due_idx');
  });
  await knex.raw(
    `CREATE INDEX lab_scheduler_tasks_due_idx ON lab_scheduler_tasks (next_run_at)
     WHERE state = 'active' AND deleted_at IS NULL`,
  );

  await knex.schema.alterTable('lab_scheduler_runs', table => {
    table.dropUnique(
      ['instrument_ref', 'slot'],
      'lab_scheduler_runs_slot_uniq',
    );
    table.dropIndex(
      ['status', 'lease_expires_at'],
      'lab_scheduler_runs_status_idx',
    );
  });
  await knex.raw(
    `CREATE UNIQUE INDEX lab_scheduler_runs_slot_uniq ON lab_scheduler_runs (instrument_ref, slot)
     WHERE slot IS NOT NULL`,
  );
  await knex.raw(
    `CREATE INDEX lab_scheduler_runs_pending_idx ON lab_scheduler_runs ((coalesce(lease_expires_at, 0)))
     WHERE status = 'pending'`,
  );
  await knex.raw(
    `CREATE INDEX lab_scheduler_runs_running_idx ON lab_scheduler_runs (started_at)
     WHERE status = 'running'`,
  );

  if (isPostgres) {
    await knex.raw(
      'ALTER TABLE lab_scheduler_runs DROP CONSTRAINT lab_scheduler_runs_task_id_foreign',
    );
    await setKeyCollation(knex, '"C"');
  }
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  const isPostgres = knex.client.config.client === 'pg';
  if (isPostgres) {
    await setKeyCollation(knex, '"default"');
    await knex.raw(`ALTER TABLE lab_scheduler_runs ADD CONSTRAINT lab_scheduler_runs_task_id_foreign
      FOREIGN KEY (task_id) REFERENCES lab_scheduler_tasks (id)`);
  }
  await knex.raw('DROP INDEX lab_scheduler_runs_running_idx');
  await knex.raw('DROP INDEX lab_scheduler_runs_pending_idx');
  await knex.raw('DROP INDEX lab_scheduler_runs_slot_uniq');
  await knex.schema.alterTable('lab_scheduler_runs', table => {
    table.unique(['instrument_ref', 'slot'], {
      indexName: 'lab_scheduler_runs_slot_uniq',
    });
    table.index(
      ['status', 'lease_expires_at'],
      'lab_scheduler_runs_status_idx',
    );
  });
  await knex.raw('DROP INDEX lab_scheduler_tasks_due_idx');
  await knex.schema.alterTable('lab_scheduler_tasks', table => {
    table.index(['state', 'next_run_at'], 'lab_scheduler_tasks_due_idx');
  });
};
