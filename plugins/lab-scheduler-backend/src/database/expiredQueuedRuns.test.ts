import { TestDatabaseId } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import {
  createTestDatabases,
  databaseIds,
  waitForLockWait,
} from '../__testUtils__/databases';
import { seedDueTasks } from '../__testUtils__/seed';
import { createStores, LabSchedulerStores } from './createStores';
import { RUNS, TASKS } from './tables';
import { lockTasks } from './taskCompletion';

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
      // dispatcher's lease decides) or running (the lost-run timeout decides), one whose attempt failed
      // with a retry coming (queued again; a retry does not renew its message), and a recent queued one.
      const expiredTasks = await seedDueTasks(knex, 1_201, longAgo);
      const [pendingTask, runningTask, retriedTask] = await seedDueTasks(
        knex,
        3,
        longAgo,
      );
      const old = await claimAll(longAgo + 1000);
      expect(old).toHaveLength(1_204);
      const runOf = (taskId: string) => old.find(r => r.taskId === taskId)!;
      await publish(
        old.filter(r => r !== runOf(pendingTask)),
        longAgo + 1000,
      );
      const report = (run: { claimToken: string }) => ({
        actor: 'test',
        claimToken: run.claimToken,
        nowMs: longAgo + 2000,
      });
      for (const taskId of [runningTask, retriedTask]) {
        const started = await stores.runStates.start(
          runOf(taskId).id,
          1,
          report(runOf(taskId)),
        );
        expect(started.proceed).toBe(true);
      }
      await stores.runStates.fail(
        runOf(retriedTask).id,
        { error: 'InstrumentFaultError: offline', retrying: true },
        report(runOf(retriedTask)),
      );
      expect(await statusCounts([retriedTask])).toEqual({ queued: 1 });
      // One expired run holds its instrument's slot.
      const slotHolder = runOf(expiredTasks[0]);
      await knex(RUNS).where({ id: slotHolder.id }).update({ slot: 0 });
      const [recentTask] = await seedDueTasks(knex, 1, now - HOUR);
      await publish(await claimAll(now - HOUR + 1000), now - HOUR + 1000);

      const failedNow = await stores.runStates.failExpiredQueuedRuns(
        now,
        RETENTION,
      );
      expect(failedNow).toBe(1_202);

      expect(await statusCounts(expiredTasks)).toEqual({ failed: 1_201 });
      const failed = await knex(RUNS)
        .where({ id: slotHolder.id })
        .first('error', 'slot', 'finished_at');
      expect(failed.error).toBe(
        'No executor took this run within 4 d of its publish, and the queue keeps a message no longer: it was not measured',
      );
      expect(failed.slot).toBeNull();
      expect(Number(failed.finished_at)).toBe(now);
      // The retried run keeps what its last attempt said.
      expect(
        await knex(RUNS)
          .where({ id: runOf(retriedTask).id })
          .first('status', 'error'),
      ).toEqual({
        status: 'failed',
        error:
          'Not started again within 4 d of its publish, and the queue keeps a message no longer: its attempts ended without a result. Last attempt: InstrumentFaultError: offline',
      });
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
      const failedAgain = await stores.runStates.failExpiredQueuedRuns(
        now,
        RETENTION,
      );
      expect(failedAgain).toBe(0);
    });

    it("keeps a run whose message is only just past the retention: the hosts' clocks may differ by minutes", async () => {
      const now = Date.now();
      const publishedAt = now - RETENTION - 60_000;
      const [taskId] = await seedDueTasks(knex, 1, publishedAt - 1000);
      await publish(await claimAll(publishedAt), publishedAt);
      const early = await stores.runStates.failExpiredQueuedRuns(
        now,
        RETENTION,
      );
      expect(early).toBe(0);
      expect(await statusCounts([taskId])).toEqual({ queued: 1 });
      const later = await stores.runStates.failExpiredQueuedRuns(
        now + 5 * 60_000,
        RETENTION,
      );
      expect(later).toBe(1);
    });

    if (databaseId.startsWith('POSTGRES')) {
      it('leaves a run an executor starts while the sweep waits for its task', async () => {
        const now = Date.now();
        const [taskId] = await seedDueTasks(knex, 1, now - 5 * DAY);
        const [run] = await claimAll(now - 5 * DAY + 1000);
        await publish([run], now - 5 * DAY + 1000);
        // The task is locked (as a report ending another of its runs would): the sweep has read the run
        // as expired and waits; meanwhile its message, delivered at last, starts it.
        let sweep: Promise<number> | undefined;
        await knex.transaction(async tx => {
          await lockTasks(tx, [taskId]);
          sweep = stores.runStates.failExpiredQueuedRuns(now, RETENTION);
          await waitForLockWait(knex);
          const started = await stores.runStates.start(run.id, 1, {
            actor: 'test',
            claimToken: run.claimToken,
            nowMs: now,
          });
          expect(started.proceed).toBe(true);
        });
        expect(await sweep).toBe(0);
        expect(await statusCounts([taskId])).toEqual({ running: 1 });
      });
    }
  },
);
