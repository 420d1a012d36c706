import { Knex } from 'knex';

/**
 * How the task list's text filter runs on this database: `trigram` (PostgreSQL with the pg_trgm index of
 * migration 20261129020000), `scan` (PostgreSQL without pg_trgm: correct, but reads the whole search
 * table) or `like` (SQLite: LIKE over the task rows).
 */
export type TextSearchIndexStatus = 'trigram' | 'scan' | 'like';

export async function textSearchIndexStatus(
  knex: Knex,
): Promise<TextSearchIndexStatus> {
  if (knex.client.config.client !== 'pg') return 'like';
  const { rows } = await knex.raw(
    `select 1 from pg_indexes where indexname = 'lab_scheduler_task_search_trgm_idx'
     and schemaname = any (current_schemas(false))`,
  );
  return rows.length > 0 ? 'trigram' : 'scan';
}
