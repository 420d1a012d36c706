import { TestDatabaseId } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { validTask } from '../__testUtils__/fixtures';
import {
  createOneTimeTask,
  dueIn,
  newestRunIs,
  pollRuns,
} from '../__testUtils__/oneTimeTasks';
import { asUser, startLabSchedulerBackend } from '../__testUtils__/testBackend';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const API = '/api/lab-scheduler';
const PLATE_READER = 'resource:default/plate-reader-1';

/** Production settings: measured in-process, simulation not allowed. */
function settings(execution: object) {
  return {
    labScheduler: {
      dispatcher: { enabled: true, pollInterval: '500ms' },
      queue: { type: 'inProcess' },
      execution: {
        rawDataDirectory: mkdtempSync(join(tmpdir(), 'lab-raw-')),
        retryDelay: '20ms',
        simulated: { allowed: false },
        ...execution,
      },
    },
  };
}

describe.each(databaseIds)(
  'instruments without a driver on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let backend: Awaited<ReturnType<typeof startLabSchedulerBackend>>;

    beforeEach(async () => {
      knex = await databases.init(databaseId);
    });
    afterEach(async () => {
      await backend?.stop();
    });

    it('refuses a task on an instrument without a driver, naming the setting, and stores nothing', async () => {
      backend = await startLabSchedulerBackend(knex, settings({}));
      const response = await request(backend.server)
        .post(`${API}/tasks`)
        .set('Authorization', asUser())
        .send({ ...validTask, schedule: dueIn() });
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body)).toContain('instrumentRef');
      expect(JSON.stringify(response.body)).toContain(
        'labScheduler.execution.simulated.allowed',
      );
      const listed = await request(backend.server)
        .get(`${API}/tasks`)
        .set('Authorization', asUser());
      expect(listed.body.items).toEqual([]);
    });

    it('accepts and measures a task on an instrument given a driver', async () => {
      backend = await startLabSchedulerBackend(
        knex,
        settings({
          instruments: [{ instrumentRef: PLATE_READER, driver: 'simulated' }],
        }),
      );
      const created = await createOneTimeTask(backend.server);
      const runs = await pollRuns(
        backend.server,
        created.id,
        newestRunIs('succeeded'),
      );
      expect(runs).toMatchObject([{ status: 'succeeded' }]);
    });

    it('fails a run whose instrument lost its driver, once and with the reason, instead of simulating it', async () => {
      // The task was accepted while simulation was allowed; the portal then turned it off.
      backend = await startLabSchedulerBackend(knex, {
        labScheduler: { dispatcher: { enabled: false } },
      });
      const created = await createOneTimeTask(backend.server);
      await backend.stop();

      backend = await startLabSchedulerBackend(knex, settings({}));
      const runs = await pollRuns(
        backend.server,
        created.id,
        newestRunIs('failed'),
      );
      expect(runs).toMatchObject([{ status: 'failed', attempt: 1 }]);
      expect(runs[0].error).toContain('NoInstrumentDriverError');
      expect(runs[0].error).toContain(PLATE_READER);
    });
  },
);
