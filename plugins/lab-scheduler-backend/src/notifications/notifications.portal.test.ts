import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import notificationsPlugin from '@backstage/plugin-notifications-backend';
import { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createTestDatabases } from '../__testUtils__/databases';
import { instrumentEntities, orgEntities } from '../__testUtils__/fixtures';
import { seedTasks } from '../__testUtils__/seed';
import { labSchedulerPlugin } from '../plugin';

jest.setTimeout(60_000);

const databases = createTestDatabases();

/**
 * The demo portal's path end to end, with the real notifications backend: a run of Ada's task fails,
 * the plugin's scheduled notifier sends, and Ada finds the notification in her inbox with the run's link.
 */
describe('run notifications through the notifications backend', () => {
  let knex: Knex;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  // The mock's instance also makes the factory that installs it (backend-test-utils types the instance as a
  // plain SchedulerService): the test triggers the plugin's task on the same scheduler.
  const scheduler = mockServices.scheduler() as ReturnType<
    typeof mockServices.scheduler
  > & {
    factory(
      options?: Parameters<typeof mockServices.scheduler.factory>[0],
    ): ReturnType<typeof mockServices.scheduler.factory>;
  };

  beforeAll(async () => {
    knex = await databases.init('SQLITE_3');
    backend = await startTestBackend({
      features: [
        labSchedulerPlugin,
        notificationsPlugin,
        mockServices.database.factory({ knex }),
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://localhost:3000' },
            labScheduler: { dispatcher: { enabled: false } },
          },
        }),
        scheduler.factory({ skipTaskRunOnStartup: true }),
        catalogServiceMock.factory({
          entities: [...instrumentEntities, ...orgEntities],
        }),
      ],
    });
  });
  afterAll(() => backend.stop());

  async function inbox(user: string) {
    const res = await request(backend.server)
      .get('/api/notifications/notifications')
      .set('Authorization', mockCredentials.user.header(user));
    expect(res.status).toBe(200);
    return res.body.notifications as any[];
  }

  it("delivers a failed run to the task owner's inbox, linking to the run page", async () => {
    const [taskId] = await seedTasks(knex, [
      {
        schedule: { type: 'once', at: new Date().toISOString() },
        nextRunAt: null,
        state: 'completed',
      },
    ]);
    await knex('lab_scheduler_tasks')
      .where('id', taskId)
      .update({ owner: 'user:default/ada', name: 'Balance drift check' });
    // The notifier's first round only notes where to start reading; the run finishes after that.
    await scheduler.triggerTask('lab-scheduler-notify-run-owners');
    await knex('lab_scheduler_notification_state')
      .where('id', 1)
      .update({ finished_at: Date.now() - 60_000 });
    const runId = randomUUID();
    // Finished longer ago than the notifier's settle time (5 s), so this round reads it.
    const finishedAt = Date.now() - 10_000;
    await knex('lab_scheduler_runs').insert({
      id: runId,
      task_id: taskId,
      instrument_ref: 'resource:default/balance-1',
      scheduled_for: finishedAt - 2000,
      status: 'dead_lettered',
      attempt: 3,
      created_at: finishedAt - 2000,
      finished_at: finishedAt,
      error: 'InstrumentFaultError: balance not level',
    });
    await scheduler.triggerTask('lab-scheduler-notify-run-owners');

    const [notification, ...others] = await inbox('user:default/ada');
    expect(others).toEqual([]);
    expect(notification.payload).toMatchObject({
      title: 'Balance drift check: Dead-lettered',
      link: `/lab-scheduler/runs/${runId}`,
      severity: 'critical',
      topic: 'lab-scheduler',
    });
    expect(notification.origin).toBe('plugin:lab-scheduler');
    expect(await inbox('user:default/rosalind')).toEqual([]);
  });
});
