import { mockServices, TestDatabaseId } from '@backstage/backend-test-utils';
import type {
  NotificationSendOptions,
  NotificationService,
} from '@backstage/plugin-notifications-node';
import {
  createMeasurementTypeLookup,
  measurementTypes,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { seedTasks } from '../__testUtils__/seed';
import { applyDatabaseMigrations } from '../database/createStores';
import { RunNotifier, wallClock } from './RunNotifier';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const T0 = Date.parse('2027-01-01T00:00:00Z');
const MINUTE = 60_000;

/** Records what would reach the notifications backend; `failing` makes every send throw. */
class RecordingNotifications implements NotificationService {
  sent: NotificationSendOptions[] = [];
  failing = false;
  async send(options: NotificationSendOptions) {
    if (this.failing) throw new Error('notifications backend unavailable');
    this.sent.push(options);
  }
}

const qc = (status: 'pass' | 'fail') =>
  JSON.stringify({
    measurementType: 'mass-reading',
    summary: {},
    qc: { status, checks: [{ name: 'cvPercent', pass: status === 'pass' }] },
  });

describe.each(databaseIds)(
  'RunNotifier on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let notifications: RecordingNotifications;
    let notifier: RunNotifier;
    let failuresTask: string;
    let everyRunTask: string;
    let quietTask: string;

    const finish = async (
      taskId: string,
      finishedAt: number,
      status: string,
      result: string | null = null,
    ) => {
      const id = randomUUID();
      await knex('lab_scheduler_runs').insert({
        id,
        task_id: taskId,
        instrument_ref: 'resource:default/balance-1',
        // One run per occurrence: distinct finish instants of a task give distinct occurrences (a random
        // offset here collided now and then: 10 runs within a second, ~4 % of test runs).
        scheduled_for: finishedAt - 1000,
        status,
        attempt: 1,
        created_at: finishedAt - 1000,
        finished_at: finishedAt,
        result,
        error: status === 'failed' ? 'InstrumentFaultError: lid open' : null,
      });
      return id;
    };

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
    });

    beforeEach(async () => {
      await knex('lab_scheduler_runs').delete();
      await knex('lab_scheduler_notification_state').delete();
      await knex('lab_scheduler_task_notifications').delete();
      await knex('lab_scheduler_tasks').delete();
      const once = {
        schedule: { type: 'once' as const, at: new Date(T0).toISOString() },
        nextRunAt: null,
      };
      [failuresTask, everyRunTask, quietTask] = await seedTasks(knex, [
        once,
        once,
        once,
      ]);
      await knex('lab_scheduler_tasks')
        .where('id', everyRunTask)
        .update({ notify_policy: 'every_run', owner: 'user:default/ada' });
      await knex('lab_scheduler_tasks')
        .where('id', quietTask)
        .update({ notify_policy: 'off' });
      notifications = new RecordingNotifications();
      notifier = new RunNotifier({
        knex,
        notifications,
        logger: mockServices.logger.mock(),
        windowMs: 30 * MINUTE,
        settleMs: 5000,
      });
      // The first round only records where to start: runs that finished before stay quiet.
      await finish(failuresTask, T0 - MINUTE, 'failed');
      const sentAtStart = await notifier.notifyFinishedRuns(T0);
      if (sentAtStart !== 0) {
        throw new Error(`the first round sent ${sentAtStart} notifications`);
      }
    });

    it("notifies each task's owner as its policy asks, with a link to the run", async () => {
      // A pass first: the failures policy lets it by, so the window is still open for the failure.
      await finish(failuresTask, T0 + 1000, 'succeeded', qc('pass'));
      const failed = await finish(failuresTask, T0 + 2000, 'failed');
      const passed = await finish(
        everyRunTask,
        T0 + 3000,
        'succeeded',
        qc('pass'),
      );
      await finish(quietTask, T0 + 4000, 'dead_lettered');
      expect(await notifier.notifyFinishedRuns(T0 + MINUTE)).toBe(2);
      expect(notifications.sent).toEqual([
        {
          recipients: { type: 'entity', entityRef: 'group:default/lab-ops' },
          payload: expect.objectContaining({
            title: 'Seeded task 0: Failed: instrument',
            link: `/lab-scheduler/runs/${failed}`,
            severity: 'high',
            topic: 'lab-scheduler',
          }),
        },
        {
          recipients: { type: 'entity', entityRef: 'user:default/ada' },
          payload: expect.objectContaining({
            title: 'Seeded task 1: QC pass',
            link: `/lab-scheduler/runs/${passed}`,
            severity: 'normal',
          }),
        },
      ]);
      // Read once: a second round sends nothing more.
      expect(await notifier.notifyFinishedRuns(T0 + 2 * MINUTE)).toBe(0);
    });

    it('names a failed QC check by its measurement type’s label for it', async () => {
      const labelled = new RunNotifier({
        knex,
        notifications,
        logger: mockServices.logger.mock(),
        windowMs: 30 * MINUTE,
        settleMs: 5000,
        measurementTypes: createMeasurementTypeLookup(
          Object.values(measurementTypes),
        ),
      });
      const failed = JSON.stringify({
        measurementType: 'mass-reading',
        summary: {},
        qc: {
          status: 'fail',
          checks: [
            { name: 'stdDev', pass: false },
            { name: 'unlabelledCheck', pass: false },
          ],
        },
      });
      await finish(failuresTask, T0 + 1000, 'succeeded', failed);
      expect(await labelled.notifyFinishedRuns(T0 + MINUTE)).toBe(1);
      expect(notifications.sent[0].payload.title).toBe(
        'Seeded task 0: QC fail: Standard deviation, unlabelledCheck',
      );
    });

    it('sends one notification per task per window and counts the rest into the next', async () => {
      for (let i = 0; i < 10; i++)
        await finish(failuresTask, T0 + 1000 + i, 'succeeded', qc('fail'));
      await finish(everyRunTask, T0 + 1500, 'failed');
      expect(await notifier.notifyFinishedRuns(T0 + MINUTE)).toBe(2);
      expect(
        notifications.sent.map(n => (n.recipients as any).entityRef),
      ).toEqual(['group:default/lab-ops', 'user:default/ada']);

      // Inside the window: more failures are counted, not sent.
      await finish(failuresTask, T0 + 10 * MINUTE, 'dead_lettered');
      expect(await notifier.notifyFinishedRuns(T0 + 11 * MINUTE)).toBe(0);

      // After the window: one notification, naming the 10 runs it stood for.
      const late = await finish(failuresTask, T0 + 40 * MINUTE, 'failed');
      expect(await notifier.notifyFinishedRuns(T0 + 41 * MINUTE)).toBe(1);
      expect(notifications.sent).toHaveLength(3);
      expect(notifications.sent[2].payload.link).toBe(
        `/lab-scheduler/runs/${late}`,
      );
      expect(notifications.sent[2].payload.description).toContain(
        '10 earlier runs of this task also finished without a notification',
      );
      // The run's time as the lab reads it: a wall clock with its zone (these one-time tasks have none: UTC).
      expect(notifications.sent[2].payload.description).toMatch(
        /^Run scheduled for \w{3}, \d{1,2} \w{3} \d{4}, \d\d:\d\d \(UTC\) finished: Failed: instrument\./,
      );
    });

    it('waits until a run has settled, and skips deleted tasks', async () => {
      await finish(failuresTask, T0 + MINUTE - 1000, 'failed');
      expect(await notifier.notifyFinishedRuns(T0 + MINUTE)).toBe(0);
      expect(await notifier.notifyFinishedRuns(T0 + MINUTE + 5000)).toBe(1);

      await knex('lab_scheduler_tasks')
        .where('id', everyRunTask)
        .update({ deleted_at: T0 });
      await finish(everyRunTask, T0 + 2 * MINUTE, 'failed');
      expect(await notifier.notifyFinishedRuns(T0 + 3 * MINUTE)).toBe(0);
    });

    it('goes on when the notifications backend fails', async () => {
      notifications.failing = true;
      await finish(failuresTask, T0 + 1000, 'failed');
      expect(await notifier.notifyFinishedRuns(T0 + MINUTE)).toBe(0);
      notifications.failing = false;
      // The failed send did not open the window: the next failure is told at once.
      await finish(failuresTask, T0 + 2 * MINUTE, 'failed');
      expect(await notifier.notifyFinishedRuns(T0 + 3 * MINUTE)).toBe(1);
    });
  },
);

describe('wallClock', () => {
  it("gives an instant on the task's wall clock, across a DST change, with its zone", () => {
    expect(wallClock('2027-03-27T07:30:00.000Z', 'Europe/Berlin')).toBe(
      'Sat, 27 Mar 2027, 08:30 (Europe/Berlin)',
    );
    // The night Berlin moves to summer time: the same UTC hour is an hour later on its clock.
    expect(wallClock('2027-03-28T07:30:00.000Z', 'Europe/Berlin')).toBe(
      'Sun, 28 Mar 2027, 09:30 (Europe/Berlin)',
    );
    expect(wallClock('2027-03-28T04:05:00.000Z', 'America/New_York')).toBe(
      'Sun, 28 Mar 2027, 00:05 (America/New_York)',
    );
  });
});
