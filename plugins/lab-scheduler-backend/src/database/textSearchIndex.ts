import { LoggerService } from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import { TASK_SEARCH_TRIGRAM_INDEX } from './tables';

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
    `select 1 from pg_indexes where indexname = ?
     and schemaname = any (current_schemas(false))`,
    [TASK_SEARCH_TRIGRAM_INDEX],
  );
  return rows.length > 0 ? 'trigram' : 'scan';
}

/** Says at startup when the text filter has no trigram index (the migration also printed why). */
export async function warnWithoutTrigramIndex(
  knex: Knex,
  logger: LoggerService,
): Promise<void> {
  if ((await textSearchIndexStatus(knex)) === 'scan') {
    logger.warn(
      `The task text filter has no pg_trgm index (${TASK_SEARCH_TRIGRAM_INDEX}) and reads every task: install the pg_trgm extension and create the index, see docs/deployment.md`,
    );
  }
}
