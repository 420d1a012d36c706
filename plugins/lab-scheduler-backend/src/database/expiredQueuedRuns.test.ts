import { TestDatabaseId } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { seedDueTasks } from '../__testUtils__/seed';
import { createStores, LabSchedulerStores } from './createStores';
import { RUNS, TASKS } from './tables';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The CDK stack's queue: SQS drops a message nobody received within 4 days. */
const RETENTION = 4 * DAY;

/**
 * With SQS, a run whose message the queue dropped unread (its retention period passed: no executor
 * took it) fails, saying so, instead of staying "queued" for ever and holding its instrument's slot.
 */
describe.each(databaseIds)(
  'expired queued runs on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let stores: LabSchedulerStores;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      stores = await createStores({
        knex,
        runStates: { staleRunningMs: HOUR },
      });
    });

    /** Claims every task due by `nowMs`; returns the claimed runs. */
    const claimAll = async (nowMs: number) =>
      (
        await stores.dispatch.claimDueTasks({
          instanceId: 'a',
          nowMs,
          batchSize: 5_000,
          leaseMs: 30_000,
          graceMs: 60_000,
        })
      ).runs;
    const publish = (
      runs: { id: string; claimToken: string }[],
      publishedAt: number,
    ) =>
      stores.dispatch.markPublished(
        runs.map(r => ({ id: r.id, claimToken: r.claimToken, publishedAt })),
      );
    const statusCounts = async (taskIds: string[]) => {
      const rows: { status: string; n: number | string }[] = await knex(RUNS)
        .select('status')
        .count({ n: '*' })
        .whereIn('task_id', taskIds)
        .groupBy('status');
      return Object.fromEntries(rows.map(r => [r.status, Number(r.n)]));
    };

    it('fails the runs queued longer than the queue keeps a message, in batches, frees their slots and completes their tasks; leaves every other run alone', async () => {
      const now = Date.now();
      const longAgo = now - 5 * DAY;
      // More than one batch of expired runs; one run each that is old but pending (never published: the
      // dispatcher's lease decides) or running (the lost-run timeout decides), and a recent queued one.
      const expiredTasks = await seedDueTasks(knex, 1_201, longAgo);
      const [pendingTask, runningTask] = await seedDueTasks(knex, 2, longAgo);
      const old = await claimAll(longAgo + 1000);
      expect(old).toHaveLength(1_203);
      const pendingRun = old.find(r => r.taskId === pendingTask)!;
      const runningRun = old.find(r => r.taskId === runningTask)!;
      await publish(
        old.filter(r => r !== pendingRun),
        longAgo + 1000,
      );
      const started = await stores.runStates.start(runningRun.id, 1, {
        actor: 'test',
        claimToken: runningRun.claimToken,
        nowMs: longAgo + 2000,
      });
      expect(started.proceed).toBe(true);
      // One expired run holds its instrument's slot.
      const slotHolder = old.find(r => r.taskId === expiredTasks[0])!;
      await knex(RUNS).where({ id: slotHolder.id }).update({ slot: 0 });
      const [recentTask] = await seedDueTasks(knex, 1, now - HOUR);
      await publish(await claimAll(now - HOUR + 1000), now - HOUR + 1000);

      expect(await stores.runStates.failExpiredQueuedRuns(now, RETENTION)).toBe(
        1_201,
      );

      expect(await statusCounts(expiredTasks)).toEqual({ failed: 1_201 });
      const failed = await knex(RUNS)
        .where({ id: slotHolder.id })
        .first('error', 'slot', 'finished_at');
      expect(failed.error).toBe(
        'No executor took this run within 4 d of its publish, when the queue drops an unread message: it was not measured',
      );
      expect(failed.slot).toBeNull();
      expect(Number(failed.finished_at)).toBe(now);
      // Their one-time tasks have nothing left to run: completed.
      const states: { state: string; n: number | string }[] = await knex(TASKS)
        .select('state')
        .count({ n: '*' })
        .whereIn('id', expiredTasks)
        .groupBy('state');
      expect(states.map(s => [s.state, Number(s.n)])).toEqual([
        ['completed', 1_201],
      ]);
      expect(await statusCounts([pendingTask])).toEqual({ pending: 1 });
      expect(await statusCounts([runningTask])).toEqual({ running: 1 });
      expect(await statusCounts([recentTask])).toEqual({ queued: 1 });

      // Nothing is failed twice.
      expect(await stores.runStates.failExpiredQueuedRuns(now, RETENTION)).toBe(
        0,
      );
    });
  },
);
