/*
 * The task list at a million tasks (GET /tasks, measured with `npm run bench:api`, docs/benchmark.md).
 *
 * - Every filter of the list gets an index that also serves the list's order (sort_at, id), so a page is
 *   one ordered range scan that stops at the page size: state, instrument and owner (the permission
 *   conditions are owner / instrument_ref IN (…) and use the same two). Partial on live tasks (the list
 *   never shows deleted ones), and they replace the old sort, instrument and owner indexes rather than
 *   adding to them: the dispatcher rewrites every index entry of a task it claims (no HOT update).
 * - PostgreSQL, text filter: a trigram (pg_trgm) GIN index answers `LIKE '%text%'` without reading
 *   every task. It lives on a side table, lab_scheduler_task_search, kept by a trigger that fires only
 *   when a name or description changes: on the tasks table itself every claim would insert the task's
 *   trigrams into the GIN index again. The document is lower(name) || U+001F || lower(description); the
 *   text filter refuses control characters, so a match never spans the two fields.
 *   Without pg_trgm (not installable, or no privilege to create it) the migration logs a warning and
 *   the side table is searched without the index (a scan of a narrow table; correct, slower).
 *   The plugin logs the same warning at startup (see textSearchIndexStatus).
 * - SQLite keeps its simple path: LIKE over the task rows.
 */

// @ts-check

const LIST_INDEXES = [
  ['lab_scheduler_tasks_list_idx', 'sort_at, id'],
  ['lab_scheduler_tasks_state_list_idx', 'state, sort_at, id'],
  ['lab_scheduler_tasks_instrument_list_idx', 'instrument_ref, sort_at, id'],
  ['lab_scheduler_tasks_owner_list_idx', 'owner, sort_at, id'],
];

const TRIGRAM_INDEX = 'lab_scheduler_task_search_trgm_idx';

/**
 * The schema holding pg_trgm after trying to create it, or undefined when it is not available.
 * @param {import('knex').Knex} knex
 * @returns {Promise<string | undefined>}
 */
async function trigramSchema(knex) {
  const installed = async () => {
    const { rows } = await knex.raw(
      `select n.nspname as schema from pg_extension e
       join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`,
    );
    return rows[0]?.schema;
  };
  const existing = await installed();
  if (existing) return existing;
  try {
    // A savepoint: a refused CREATE EXTENSION must not abort the migration's transaction.
    await knex.transaction(async savepoint => {
      await savepoint.raw('CREATE EXTENSION IF NOT EXISTS pg_trgm');
    });
  } catch (error) {
    // eslint-disable-next-line no-console
    console.warn(
      `lab-scheduler: pg_trgm is not available (${
        /** @type {Error} */ (error).message
      }); the task text filter will scan the task search table. Install pg_trgm (CREATE EXTENSION pg_trgm, as a role allowed to) and run: CREATE INDEX ${TRIGRAM_INDEX} ON lab_scheduler_task_search USING gin (document gin_trgm_ops)`,
    );
    return undefined;
  }
  return installed();
}

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  const isPostgres = knex.client.config.client === 'pg';
  await knex.schema.alterTable('lab_scheduler_tasks', table => {
    table.dropIndex(['sort_at', 'id'], 'lab_scheduler_tasks_sort_idx');
    table.dropIndex(['instrument_ref'], 'lab_scheduler_tasks_instrument_idx');
    table.dropIndex(['owner'], 'lab_scheduler_tasks_owner_idx');
  });
  for (const [name, columns] of LIST_INDEXES) {
    await knex.raw(
      `CREATE INDEX ${name} ON lab_scheduler_tasks (${columns}) WHERE deleted_at IS NULL`,
    );
  }
  if (!isPostgres) return;

  await knex.raw(`
    CREATE TABLE lab_scheduler_task_search (
      task_id varchar(36) COLLATE "C" PRIMARY KEY,
      document text NOT NULL
    );
    COMMENT ON TABLE lab_scheduler_task_search IS
      'Text filter of the task list: lower(name) || U+001F || lower(description), kept by a trigger';
    CREATE FUNCTION lab_scheduler_task_search_sync() RETURNS trigger AS $$
    BEGIN
      INSERT INTO lab_scheduler_task_search (task_id, document)
      VALUES (NEW.id, lower(NEW.name) || chr(31) || lower(NEW.description))
      ON CONFLICT (task_id) DO UPDATE SET document = EXCLUDED.document;
      RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    CREATE TRIGGER lab_scheduler_task_search_insert AFTER INSERT ON lab_scheduler_tasks
      FOR EACH ROW EXECUTE FUNCTION lab_scheduler_task_search_sync();
    CREATE TRIGGER lab_scheduler_task_search_update AFTER UPDATE OF name, description ON lab_scheduler_tasks
      FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.description IS DISTINCT FROM NEW.description)
      EXECUTE FUNCTION lab_scheduler_task_search_sync();
    INSERT INTO lab_scheduler_task_search (task_id, document)
      SELECT id, lower(name) || chr(31) || lower(description) FROM lab_scheduler_tasks;
  `);
  const schema = await trigramSchema(knex);
  if (schema) {
    await knex.raw(
      `CREATE INDEX ${TRIGRAM_INDEX} ON lab_scheduler_task_search USING gin (document ??.gin_trgm_ops)`,
      [schema],
    );
  }
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  if (knex.client.config.client === 'pg') {
    await knex.raw(`
      DROP TRIGGER lab_scheduler_task_search_update ON lab_scheduler_tasks;
      DROP TRIGGER lab_scheduler_task_search_insert ON lab_scheduler_tasks;
      DROP FUNCTION lab_scheduler_task_search_sync();
      DROP TABLE lab_scheduler_task_search;
    `);
    // pg_trgm stays: other plugins of the database may use it.
  }
  for (const [name] of [...LIST_INDEXES].reverse()) {
    await knex.raw(`DROP INDEX ${name}`);
  }
  await knex.schema.alterTable('lab_scheduler_tasks', table => {
    table.index(['sort_at', 'id'], 'lab_scheduler_tasks_sort_idx');
    table.index(['instrument_ref'], 'lab_scheduler_tasks_instrument_idx');
    table.index(['owner'], 'lab_scheduler_tasks_owner_idx');
  });
};
