import { mockServices, TestDatabaseId } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import request from 'supertest';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { seedDueTasks } from '../__testUtils__/seed';
import { createQueue, startFauxqsProcess } from '../__testUtils__/sqs';
import { asUser, startLabSchedulerBackend } from '../__testUtils__/testBackend';
import { createStores } from '../database/createStores';
import { RUNS, TASKS } from '../database/tables';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const HOUR = 3_600_000;
const TASK_ID = 'lab-scheduler-fail-expired-queued-runs';

let fauxqs: Awaited<ReturnType<typeof startFauxqsProcess>>;
let queueUrl: string;

beforeAll(async () => {
  fauxqs = await startFauxqsProcess();
  queueUrl = await createQueue(fauxqs.client(), `expired-${Date.now()}`);
});

afterAll(async () => {
  await fauxqs.stop();
});

/**
 * With SQS, a message nobody received within the queue's retention period is gone, and the run it
 * carried would stay "queued" for ever. The backend's housekeeping fails such runs, saying why, after the
 * configured retention (labScheduler.queue.sqs.messageRetention).
 */
describe.each(databaseIds)(
  'runs whose SQS message expired, on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
    });

    it('fail once their message is past the configured retention, and the API shows why; newer ones stay queued', async () => {
      const stores = await createStores({
        knex,
        runStates: { staleRunningMs: HOUR },
      });
      const now = Date.now();
      // Published 3 hours ago and 30 minutes ago, never started.
      const [oldTask] = await seedDueTasks(knex, 1, now - 3 * HOUR);
      const [newTask] = await seedDueTasks(knex, 1, now - HOUR / 2);
      for (const at of [now - 3 * HOUR, now - HOUR / 2]) {
        const { runs } = await stores.dispatch.claimDueTasks({
          instanceId: 'gone',
          nowMs: at + 1,
          batchSize: 10,
          leaseMs: 30_000,
          graceMs: 60_000,
        });
        await stores.dispatch.markPublished(
          runs.map(r => ({
            id: r.id,
            claimToken: r.claimToken,
            publishedAt: at + 1,
          })),
        );
      }
      const scheduler = mockServices.scheduler.mock();
      const backend = await startLabSchedulerBackend(
        knex,
        {
          labScheduler: {
            dispatcher: { enabled: false },
            queue: {
              type: 'sqs',
              sqs: {
                queueUrl,
                endpoint: fauxqs.endpoint,
                region: 'us-east-1',
                messageRetention: '2h',
              },
            },
          },
        },
        [scheduler.factory],
      );
      try {
        const task = scheduler.scheduleTask.mock.calls
          .map(([t]) => t)
          .find(t => t.id === TASK_ID);
        expect(task?.scope).toBe('global');
        await task!.fn(new AbortController().signal);

        const statusOf = async (taskId: string) =>
          (await knex(RUNS).where({ task_id: taskId }).first('id', 'status'))!;
        const expired = await statusOf(oldTask);
        expect(expired.status).toBe('failed');
        expect((await statusOf(newTask)).status).toBe('queued');
        const response = await request(backend.server)
          .get(`/api/lab-scheduler/runs/${expired.id}`)
          .set('Authorization', asUser());
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({
          status: 'failed',
          error:
            'No executor took this run within 2 h of its publish, and the queue keeps a message no longer: it was not measured',
        });
        expect(
          (await knex(TASKS).where({ id: oldTask }).first('state'))!.state,
        ).toBe('completed');
      } finally {
        await backend.stop();
      }
    });
  },
);
