import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { spawnSync } from 'node:child_process';

/**
 * Test databases for the store and API: SQLite always, and the real PostgreSQL of this machine
 * (127.0.0.1:5432 unless BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING says otherwise).
 *
 * With CI=true an unreachable PostgreSQL fails the run instead of silently dropping the Postgres cases.
 */
const PG_ENV = 'BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING';
export const DEFAULT_PG_CONNECTION = 'postgresql://postgres@127.0.0.1:5432';

process.env.BACKSTAGE_TEST_DISABLE_DOCKER = '1';
process.env[PG_ENV] ??= DEFAULT_PG_CONNECTION;

export const isCI = ['1', 'true'].includes(
  String(process.env.CI).toLowerCase(),
);

/** Synchronous reachability probe: the test ids must be known when jest collects the tests. */
function postgresReachable(connectionString: string): boolean {
  const url = new URL(connectionString);
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      `const s=require('net').connect(${Number(
        url.port || 5432,
      )},${JSON.stringify(
        url.hostname,
      )});s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(1),3000);`,
    ],
    { timeout: 5000 },
  );
  return probe.status === 0;
}

export const postgresAvailable = postgresReachable(process.env[PG_ENV]!);

if (!postgresAvailable) {
  if (isCI) {
    throw new Error(
      `PostgreSQL is not reachable at ${process.env[PG_ENV]} and CI=true: the Postgres tests must run. Start it (see README) or set ${PG_ENV}.`,
    );
  }
  // eslint-disable-next-line no-console
  console.warn(
    `PostgreSQL not reachable at ${process.env[PG_ENV]}: running the SQLite cases only`,
  );
  delete process.env[PG_ENV];
}

export const databaseIds: TestDatabaseId[] = postgresAvailable
  ? ['POSTGRES_15', 'SQLITE_3']
  : ['SQLITE_3'];

export function createTestDatabases(): TestDatabases {
  return TestDatabases.create({ ids: databaseIds });
}

/**
 * Resolves once a statement of another connection to this PostgreSQL database waits for a lock: the
 * point where a test lets the transaction that holds it go on.
 */
export async function waitForLockWait(knex: Knex): Promise<void> {
  for (let waited = 0; ; waited += 20) {
    const { rows } = await knex.raw(
      `select count(*)::int as n from pg_stat_activity
       where datname = current_database() and wait_event_type = 'Lock'`,
    );
    if (rows[0].n > 0) return;
    if (waited > 20_000) throw new Error('nothing waited for a lock');
    await new Promise(r => setTimeout(r, 20));
  }
}
