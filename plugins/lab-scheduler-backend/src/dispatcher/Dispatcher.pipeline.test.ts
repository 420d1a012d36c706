import { mockServices, TestDatabaseId } from '@backstage/backend-test-utils';
import { RunMessage } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { noGuards, seedTasks } from '../__testUtils__/seed';
import { applyDatabaseMigrations } from '../database/createStores';
import { DispatchStore } from '../database/DispatchStore';
import { TaskQueue } from '../queue/TaskQueue';
import { Dispatcher } from './Dispatcher';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const logger = mockServices.logger.mock();
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function waitUntil(check: () => boolean, what: string) {
  for (const deadline = Date.now() + 20_000; !check(); await sleep(20)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
  }
}

describe.each(databaseIds)(
  'Dispatcher loop on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
    });

    it('claims and publishes the next instants while an earlier round is still publishing', async () => {
      const now = Date.now();
      const [early, later] = await seedTasks(
        knex,
        [now - 10, now + 400].map(at => ({
          schedule: { type: 'once' as const, at: new Date(at).toISOString() },
          nextRunAt: at,
          policies: noGuards,
        })),
      );
      // The early run's publish hangs (a slow queue request) until the test lets it go.
      let letGo!: () => void;
      const hung = new Promise<void>(resolve => (letGo = resolve));
      const published: RunMessage[] = [];
      const queue: TaskQueue = {
        async publish(messages) {
          if (messages.some(m => m.taskId === early)) await hung;
          published.push(...messages);
          return messages.map(m => ({ runId: m.runId, ok: true }));
        },
        close: async () => {},
      };
      const dispatcher = new Dispatcher({
        store: new DispatchStore(knex),
        queue,
        logger,
        instanceId: 'loop',
        pollIntervalMs: 200,
      });
      dispatcher.start();
      try {
        await waitUntil(
          () => published.some(m => m.taskId === later),
          'the later run published behind the hung one',
        );
        expect(published.map(m => m.taskId)).toEqual([later]);
        letGo();
        await waitUntil(() => published.length === 2, 'the early run');
      } finally {
        letGo();
        await dispatcher.stop();
      }

      // Each occurrence once: one run per task, one message per run, both recorded as published.
      const runs = await knex('lab_scheduler_runs').select(
        'id',
        'task_id',
        'status',
      );
      expect(runs.map(r => r.task_id).sort()).toEqual([early, later].sort());
      expect(published.map(m => m.runId).sort()).toEqual(
        runs.map(r => r.id).sort(),
      );
      expect(runs.every(r => r.status === 'queued')).toBe(true);
    });
  },
);
