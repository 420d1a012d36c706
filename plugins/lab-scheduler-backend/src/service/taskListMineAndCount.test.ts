import { TestDatabaseId } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import request from 'supertest';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { validTask } from '../__testUtils__/fixtures';
import {
  asService,
  asUser,
  startLabSchedulerBackend,
} from '../__testUtils__/testBackend';
import { DatabaseTaskStore } from '../database/DatabaseTaskStore';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const API = '/api/lab-scheduler';

describe.each(databaseIds)(
  'GET /tasks mine and count on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let backend: Awaited<ReturnType<typeof startLabSchedulerBackend>>;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      backend = await startLabSchedulerBackend(knex);
      const create = async (body: object, auth: string) => {
        const res = await request(backend.server)
          .post(`${API}/tasks`)
          .set('Authorization', auth)
          .send(body);
        expect([res.status, res.body.error]).toEqual([201, undefined]);
      };
      // ada: one of her own, one of her group lab-ops; rosalind: one of her own and one of her group.
      await create({ ...validTask, name: 'ada own' }, asUser());
      await create(
        { ...validTask, name: 'lab-ops', owner: 'group:default/lab-ops' },
        asUser(),
      );
      await create(
        { ...validTask, name: 'rosalind own' },
        asUser('user:default/rosalind'),
      );
      await create(
        { ...validTask, name: 'assay-dev', owner: 'group:default/assay-dev' },
        asUser('user:default/rosalind'),
      );
    });
    afterAll(() => backend.stop());

    const list = (query: string, auth = asUser()) =>
      request(backend.server)
        .get(`${API}/tasks?${query}`)
        .set('Authorization', auth);

    it('"mine" is my tasks and my groups’ tasks', async () => {
      const res = await list('mine=true');
      expect(res.status).toBe(200);
      expect(res.body.items.map((t: any) => t.name).sort()).toEqual([
        'ada own',
        'lab-ops',
      ]);
      const other = await list('mine=true', asUser('user:default/rosalind'));
      expect(other.body.items.map((t: any) => t.name).sort()).toEqual([
        'assay-dev',
        'rosalind own',
      ]);
    });

    it('refuses "mine" for a service, and anything but true/false', async () => {
      const service = await list('mine=true', asService());
      expect(service.status).toBe(400);
      expect(service.body.error.details[0].path).toBe('mine');
      const bad = await list('count=yes');
      expect(bad.status).toBe(400);
      expect(bad.body.error.details[0]).toEqual({
        path: 'count',
        message: 'must be true or false',
      });
    });

    it('counts every match when asked, not just the page', async () => {
      const res = await list('limit=1&count=true');
      expect(res.body.items).toHaveLength(1);
      expect(res.body.total).toEqual({ count: 4, capped: false });
      const mine = await list('limit=1&count=true&mine=true');
      expect(mine.body.total).toEqual({ count: 2, capped: false });
      expect((await list('limit=1')).body.total).toBeUndefined();
    });

    it('stops counting at the cap', async () => {
      const store = new DatabaseTaskStore(knex);
      expect(await store.countTasks({}, 3)).toEqual({
        count: 3,
        capped: true,
      });
      expect(await store.countTasks({}, 4)).toEqual({
        count: 4,
        capped: false,
      });
      expect(
        await store.countTasks({ owner: 'group:default/lab-ops' }, 3),
      ).toEqual({ count: 1, capped: false });
    });
  },
);
