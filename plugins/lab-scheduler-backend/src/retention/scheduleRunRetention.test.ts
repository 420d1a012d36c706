import { mockServices } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { createTestDatabases } from '../__testUtils__/databases';
import { seedTasks } from '../__testUtils__/seed';
import { applyDatabaseMigrations } from '../database/createStores';
import { timeOrderedUuid } from '../database/ids';
import { scheduleRunRetention } from './scheduleRunRetention';

jest.setTimeout(60_000);

const databases = createTestDatabases();

describe('scheduleRunRetention', () => {
  let knex: Knex;

  beforeAll(async () => {
    knex = await databases.init('SQLITE_3');
    await applyDatabaseMigrations(knex);
  });

  it('schedules nothing while keepFinishedRunsFor is not set', async () => {
    const scheduler = mockServices.scheduler.mock();
    await scheduleRunRetention({
      config: mockServices.rootConfig({ data: {} }),
      scheduler,
      knex,
      logger: mockServices.logger.mock(),
    });
    expect(scheduler.scheduleTask).not.toHaveBeenCalled();
  });

  it('schedules a global sweep that deletes expired runs', async () => {
    const scheduler = mockServices.scheduler.mock();
    const logger = mockServices.logger.mock();
    logger.child.mockReturnValue(logger);
    await scheduleRunRetention({
      config: mockServices.rootConfig({
        data: {
          labScheduler: {
            retention: { keepFinishedRunsFor: '7d', keepLastRunsPerTask: 0 },
          },
        },
      }),
      scheduler,
      knex,
      logger,
    });
    expect(scheduler.scheduleTask).toHaveBeenCalledWith(
      expect.objectContaining({
        id: 'lab-scheduler-run-retention',
        scope: 'global',
        frequency: { milliseconds: 10 * 60_000 },
      }),
    );
    const [task] = await seedTasks(knex, [
      {
        schedule: { type: 'once', at: new Date().toISOString() },
        nextRunAt: null,
      },
    ]);
    const at = Date.now() - 8 * 86_400_000;
    await knex('lab_scheduler_runs').insert({
      id: timeOrderedUuid(at),
      task_id: task,
      scheduled_for: at,
      status: 'succeeded',
      created_at: at,
      finished_at: at,
    });
    const { fn } = scheduler.scheduleTask.mock.calls[0][0];
    await fn(new AbortController().signal);
    expect(await knex('lab_scheduler_runs').where('task_id', task)).toEqual([]);
    expect(logger.info).toHaveBeenCalledWith(
      'Deleted expired run history',
      expect.objectContaining({ runs: 1 }),
    );
  });
});
