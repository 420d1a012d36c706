import knexFactory, { Knex } from 'knex';
import { createServer } from 'node:net';
import request from 'supertest';
import {
  createTestDatabases,
  DEFAULT_PG_CONNECTION,
  postgresAvailable,
} from '../__testUtils__/databases';
import { validTask } from '../__testUtils__/fixtures';
import { asUser, startLabSchedulerBackend } from '../__testUtils__/testBackend';
import { isDatabaseUnavailable } from './unavailable';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const pgConnection =
  process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING ??
  DEFAULT_PG_CONNECTION;
const API = '/api/lab-scheduler';

/** The error a query raises, from the real driver. */
async function errorOf(query: () => Promise<unknown>): Promise<unknown> {
  try {
    await query();
  } catch (error) {
    return error;
  }
  throw new Error('the query did not fail');
}

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const describeWithPostgres = postgresAvailable ? describe : describe.skip;

describeWithPostgres('isDatabaseUnavailable, on real driver errors', () => {
  const opened: Knex[] = [];
  const open = (config: Knex.Config) => {
    const knex = knexFactory(config);
    opened.push(knex);
    return knex;
  };
  afterAll(() => Promise.all(opened.map(k => k.destroy())));

  it('knows a server that is down (connection refused)', async () => {
    const port = await closedPort();
    const knex = open({
      client: 'pg',
      connection: `postgresql://postgres@127.0.0.1:${port}/postgres`,
      acquireConnectionTimeout: 5_000,
    });
    expect(
      isDatabaseUnavailable(await errorOf(() => knex.raw('select 1'))),
    ).toBe(true);
  });

  it('knows a connection the server shut down (57P01, as in a restart)', async () => {
    const knex = open({ client: 'pg', connection: pgConnection });
    const admin = open({ client: 'pg', connection: pgConnection });
    const error = errorOf(() =>
      knex.raw(
        "select pg_sleep(30), current_setting('application_name') as marker",
      ),
    );
    // Terminate the sleeping session (ours), never another one of the shared server.
    for (let i = 0; i < 100; i++) {
      const { rows } = await admin.raw(
        "select pid from pg_stat_activity where query like 'select pg_sleep(30), current_setting%' and pid <> pg_backend_pid()",
      );
      if (rows.length > 0) {
        await admin.raw('select pg_terminate_backend(?)', [rows[0].pid]);
        break;
      }
      await new Promise(r => setTimeout(r, 50));
    }
    const thrown = await error;
    expect((thrown as { code?: string }).code).toBe('57P01');
    expect(isDatabaseUnavailable(thrown)).toBe(true);
  });

  it('knows a pool with no connection to give (timeout acquiring)', async () => {
    const knex = open({
      client: 'pg',
      connection: pgConnection,
      pool: { min: 0, max: 1 },
      acquireConnectionTimeout: 300,
    });
    const trx = await knex.transaction();
    try {
      const thrown = await errorOf(() => knex.raw('select 1'));
      expect(isDatabaseUnavailable(thrown)).toBe(true);
    } finally {
      await trx.rollback();
    }
  });

  it('does not take a faulty statement or a conflict for an outage', async () => {
    const knex = open({ client: 'pg', connection: pgConnection });
    const syntax = await errorOf(() => knex.raw('selec 1'));
    const unique = await errorOf(() =>
      knex.raw(
        'create temporary table t (id int primary key); insert into t values (1), (1)',
      ),
    );
    expect((unique as { code?: string }).code).toBe('23505');
    expect(isDatabaseUnavailable(syntax)).toBe(false);
    expect(isDatabaseUnavailable(unique)).toBe(false);
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
  });
});

describeWithPostgres('the API while its database is unavailable', () => {
  it('answers 503 with Retry-After, stores nothing, and serves again once the database is back', async () => {
    const knex = await databases.init('POSTGRES_15');
    const admin = knexFactory({ client: 'pg', connection: pgConnection });
    const database = (knex.client.config.connection as { database: string })
      .database;
    const backend = await startLabSchedulerBackend(knex);
    const create = () =>
      request(backend.server)
        .post(`${API}/tasks`)
        .set('Authorization', asUser())
        .send({ ...validTask, name: 'During the outage' });
    try {
      const created = await create();
      expect(created.status).toBe(201);
      // What clients see while a database restarts: no new connections, the open ones cut.
      await admin.raw(`alter database "${database}" allow_connections false`);
      await admin.raw(
        'select pg_terminate_backend(pid) from pg_stat_activity where datname = ? and pid <> pg_backend_pid()',
        [database],
      );
      const during = await create();
      expect(during.status).toBe(503);
      expect(during.headers['retry-after']).toBe('5');
      expect(during.body.error).toMatchObject({
        name: 'ServiceUnavailableError',
        message: 'The database is unavailable; retry shortly',
      });
      // The routes mounted beside the main router (results, exports) answer the same.
      for (const path of [
        '/results',
        `/tasks/${created.body.id}/runs/export`,
      ]) {
        const read = await request(backend.server)
          .get(`${API}${path}`)
          .set('Authorization', asUser());
        expect({ path, status: read.status }).toEqual({ path, status: 503 });
        expect(read.headers['retry-after']).toBe('5');
      }
    } finally {
      await admin.raw(`alter database "${database}" allow_connections true`);
    }
    expect((await create()).status).toBe(201);
    const names = await knex('lab_scheduler_tasks').pluck('name');
    expect(names.filter(n => n === 'During the outage')).toHaveLength(2);
    await backend.stop();
    await admin.destroy();
  });
});
