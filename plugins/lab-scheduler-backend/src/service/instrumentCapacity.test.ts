/*
 * An instrument's capacity belongs to the instrument (catalog annotation), shared by every team's tasks
 * on it: the API takes it from the catalog, refuses it as input, and the refresh applies catalog changes
 * to existing tasks. SQLite and PostgreSQL, through the real test backend.
 */
import { TestDatabaseId } from '@backstage/backend-test-utils';
import { getInstrumentCapacity } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import request from 'supertest';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { validTask } from '../__testUtils__/fixtures';
import {
  asService,
  asUser,
  startLabSchedulerBackend,
} from '../__testUtils__/testBackend';
import { InstrumentCapacities } from '../database/InstrumentCapacities';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const API = '/api/lab-scheduler';

describe('getInstrumentCapacity', () => {
  const entity = (value?: string) => ({
    metadata: {
      annotations: (value === undefined
        ? {}
        : { 'lab-scheduler.io/capacity': value }) as Record<string, string>,
    },
  });
  it.each([
    [undefined, 1],
    ['3', 3],
    [' 12 ', 12],
    ['unlimited', null],
    ['Unlimited', null],
    ['0', 1],
    ['-2', 1],
    ['2.5', 1],
    ['lots', 1],
    ['99999', 1],
  ])('reads %p as %p', (value, expected) => {
    expect(getInstrumentCapacity(entity(value))).toBe(expected);
  });
});

describe.each(databaseIds)(
  'instrument capacity on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let backend: Awaited<ReturnType<typeof startLabSchedulerBackend>>;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      backend = await startLabSchedulerBackend(knex);
    });

    afterAll(async () => {
      await backend.stop();
    });

    const create = (body: object, auth = asUser()) =>
      request(backend.server)
        .post(`${API}/tasks`)
        .set('Authorization', auth)
        .send(body);

    it("takes a task's instrument capacity from the instrument's catalog annotation", async () => {
      const balance = await create({
        ...validTask,
        instrumentRef: 'resource:default/balance-1',
        measurement: { type: 'mass-reading', parameters: {} },
      });
      expect(balance.status).toBe(201);
      expect(balance.body.policies.instrumentConcurrency).toBe(3);
      // No annotation: the default, 1.
      const reader = await create(validTask);
      expect(reader.status).toBe(201);
      expect(reader.body.policies.instrumentConcurrency).toBe(1);

      // Moving the task to another instrument takes that instrument's capacity.
      const moved = await request(backend.server)
        .patch(`${API}/tasks/${balance.body.id}`)
        .set('Authorization', asUser())
        .set('If-Match', String(balance.body.version))
        .send({
          instrumentRef: 'resource:default/plate-reader-1',
          measurement: { type: 'absorbance-spectrum', parameters: {} },
        });
      expect(moved.status).toBe(200);
      expect(moved.body.policies.instrumentConcurrency).toBe(1);
    });

    it.each([
      ['a user raising it', asUser(), null],
      ['a user setting a number', asUser(), 50],
      ['a service', asService(), 2],
    ])(
      'refuses the capacity as task input (%s) and stores nothing',
      async (_, auth, value) => {
        const [before] = await knex('lab_scheduler_tasks').count({ n: '*' });
        const res = await create(
          {
            ...validTask,
            owner: 'group:default/lab-ops',
            policies: { overlap: 'allow', instrumentConcurrency: value },
          },
          auth,
        );
        expect(res.status).toBe(400);
        expect(JSON.stringify(res.body)).toContain(
          'policies.instrumentConcurrency',
        );
        expect(res.body.error.message).toMatch(/set in the catalog/);
        const [after] = await knex('lab_scheduler_tasks').count({ n: '*' });
        expect(Number(after.n)).toBe(Number(before.n));
      },
    );

    it('applies a capacity changed in the catalog to the tasks already on the instrument', async () => {
      const created = await create({
        ...validTask,
        instrumentRef: 'resource:default/balance-1',
        measurement: { type: 'mass-reading', parameters: {} },
      });
      // A copy that went stale, as if the catalog's annotation had changed since.
      await knex('lab_scheduler_tasks')
        .where({ id: created.body.id })
        .update({ instrument_concurrency: null });
      const capacities = new InstrumentCapacities(knex);
      const catalog = new Map([['resource:default/balance-1', 2]]);
      const changed = await capacities.refresh(
        async ref => catalog.get(ref) ?? 1,
      );
      expect(changed).toBeGreaterThan(0);
      const rows = await knex('lab_scheduler_tasks')
        .where({ instrument_ref: 'resource:default/balance-1' })
        .whereNull('deleted_at');
      expect(rows.map(r => Number(r.instrument_concurrency))).toEqual(
        rows.map(() => 2),
      );
      // Idempotent: nothing left to change.
      expect(await capacities.refresh(async ref => catalog.get(ref) ?? 1)).toBe(
        0,
      );
    });
  },
);
