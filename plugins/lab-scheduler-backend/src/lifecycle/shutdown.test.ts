import { databaseServiceFactory } from '@backstage/backend-defaults/database';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import knexFactory from 'knex';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_PG_CONNECTION,
  postgresAvailable,
} from '../__testUtils__/databases';
import { instrumentEntities, orgEntities } from '../__testUtils__/fixtures';
import { createOneTimeTask, pollRuns } from '../__testUtils__/oneTimeTasks';
import { labSchedulerPlugin } from '../plugin';

jest.setTimeout(60_000);

// `backstage-cli package start` keeps in-memory SQLite databases across restarts: a shutdown hook of
// Backstage's database service takes the only connection to serialize the database and keeps it. Only
// the CLI's end of that channel (IPC to the parent process) is replaced here; the hook is Backstage's.
jest.mock('@backstage/backend-dev-utils', () => ({
  DevDataStore: {
    get: () => ({
      load: async () => ({ loaded: false }),
      save: async () => ({ saved: true }),
    }),
  },
}));

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

// A hang test, not a speed test: the budget is 1.5 s, the hang it guards against was 60 s.
const STOP_BOUND_MS = 5000;
const ABANDONED_QUERY_TIMEOUT_MS = 2000;

const pgPrefix = `lab_shutdown_${randomBytes(4).toString('hex')}_`;
const pgConnection =
  process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING ??
  DEFAULT_PG_CONNECTION;

const databases: Array<[string, object]> = [
  // What `npx @backstage/create-app` writes into app-config.yaml.
  [
    'in-memory SQLite',
    {
      client: 'better-sqlite3',
      connection: ':memory:',
      // The queries the shutdown left waiting for the held connection give up within the test.
      knexConfig: { acquireConnectionTimeout: ABANDONED_QUERY_TIMEOUT_MS },
    },
  ],
  [
    'SQLite files',
    {
      client: 'better-sqlite3',
      connection: { directory: mkdtempSync(join(tmpdir(), 'lab-sqlite-')) },
    },
  ],
  ...(postgresAvailable
    ? [
        [
          'PostgreSQL',
          { client: 'pg', connection: pgConnection, prefix: pgPrefix },
        ] as [string, object],
      ]
    : []),
];

afterAll(async () => {
  if (!postgresAvailable) return;
  const admin = knexFactory({ client: 'pg', connection: pgConnection });
  const { rows } = await admin.raw(
    'SELECT datname FROM pg_database WHERE datname LIKE ?',
    [`${pgPrefix}%`],
  );
  for (const { datname } of rows) {
    await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [datname]);
  }
  await admin.destroy();
});

describe.each(databases)('shutdown on %s', (_name, database) => {
  it('stops promptly after the dispatcher has measured a run', async () => {
    const backend = await startTestBackend({
      features: [
        labSchedulerPlugin,
        databaseServiceFactory,
        schedulerServiceFactory,
        mockServices.rootConfig.factory({
          data: {
            backend: { database },
            labScheduler: {
              dispatcher: { enabled: true, pollInterval: '500ms' },
              execution: {
                simulated: { allowed: true },
                rawDataDirectory: mkdtempSync(join(tmpdir(), 'lab-raw-')),
              },
            },
          },
        }),
        catalogServiceMock.factory({
          entities: [...instrumentEntities, ...orgEntities],
        }),
      ],
    });
    const created = await createOneTimeTask(backend.server);
    const runs = await pollRuns(
      backend.server,
      created.id,
      taskRuns => taskRuns.length > 0,
    );
    expect(runs).toHaveLength(1);

    const stopping = Date.now();
    await backend.stop();
    expect(Date.now() - stopping).toBeLessThan(STOP_BOUND_MS);
    // What the shutdown abandoned fails (and logs) now, not after the test file is done.
    await sleep(ABANDONED_QUERY_TIMEOUT_MS + 500);
  });
});
