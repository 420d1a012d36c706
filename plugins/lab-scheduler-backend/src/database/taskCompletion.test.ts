import { TestDatabaseId } from '@backstage/backend-test-utils';
import type { RunResult } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import {
  createTestDatabases,
  databaseIds,
  waitForLockWait,
} from '../__testUtils__/databases';
import { noGuards, seedTasks } from '../__testUtils__/seed';
import { completedSortKey } from '../tasks/lifecycle';
import { TaskService } from '../tasks/TaskService';
import { createStores, LabSchedulerStores } from './createStores';
import { newClaimToken, timeOrderedUuid } from './ids';
import { completeEndedTasks, lockTasksOfRuns } from './taskCompletion';
import { AUDIT, RUNS, TASKS } from './tables';
import { writeNextRuns } from './nextRuns';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const HOUR = 3_600_000;

const result: RunResult = {
  measurementType: 'mass-reading',
  driver: 'simulated',
  summary: { mean: 1 },
  qc: { status: 'pass', checks: [] },
  rawData: { uri: 'file:///raw.json', bytes: 2, sha256: '0'.repeat(64) },
  durationMs: 10,
};

/**
 * A one-time task is completed only when its run has ended (issue 12), and stays findable: near the top
 * of the list while its run is under way, first of the completed tasks once it ended.
 */
describe.each(databaseIds)(
  'task completion on %s',
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

    beforeEach(async () => {
      // The run-event audit is append-only: it keeps the earlier tests' events.
      await knex(RUNS).delete();
      await knex(TASKS).delete();
    });

    const claim = (nowMs: number) =>
      stores.dispatch.claimDueTasks({
        instanceId: 'a',
        nowMs,
        batchSize: 100,
        leaseMs: 30_000,
        graceMs: 60_000,
      });

    /** One-time tasks due at these instants (no overlap or instrument guard). */
    const oneTimeTasks = (ats: number[], misfire?: 'skip') =>
      seedTasks(
        knex,
        ats.map(at => ({
          schedule: { type: 'once' as const, at: new Date(at).toISOString() },
          nextRunAt: at,
          policies: misfire ? { ...noGuards, misfire } : noGuards,
        })),
      );

    /** Claims the due tasks at `nowMs`, publishes their runs and starts them; returns them by task. */
    async function claimAndStart(nowMs: number) {
      const { runs } = await claim(nowMs);
      await stores.dispatch.markPublished(
        runs.map(r => ({
          id: r.id,
          claimToken: r.claimToken,
          publishedAt: nowMs,
        })),
      );
      for (const run of runs) {
        const started = await stores.runStates.start(run.id, 1, {
          actor: 'test',
          claimToken: run.claimToken,
          nowMs,
        });
        expect(started.proceed).toBe(true);
      }
      return new Map(runs.map(r => [r.taskId, r]));
    }

    /**
     * A one-time task due a second ago whose occurrence a claim skips (overlap: skip): a manual run of it,
     * for 5 s ago, is running. Returns the task and that run.
     */
    async function skippingTaskWithManualRunRunning(now: number) {
      const [taskId] = await seedTasks(knex, [
        {
          schedule: { type: 'once', at: new Date(now - 1000).toISOString() },
          nextRunAt: now - 1000,
          policies: { overlap: 'skip', instrumentConcurrency: null },
        },
      ]);
      const manualRunId = timeOrderedUuid(now - 5000);
      await knex(RUNS).insert({
        id: manualRunId,
        task_id: taskId,
        scheduled_for: now - 5000,
        status: 'running',
        attempt: 1,
        started_at: now - 4000,
        triggered_by: 'user:default/ada',
        created_at: now - 5000,
      });
      return { taskId, manualRunId };
    }

    const stateOf = async (taskId: string) =>
      (await stores.tasks.getTask(taskId))!.state;

    it('keeps a claimed one-time task active on the first page until its run ends, then completes it first of the completed, and never claims it twice', async () => {
      const now = Date.now();
      // 60 tasks still to run (a day ahead, a minute apart), and one that completed a day ago.
      const upcoming = await oneTimeTasks(
        Array.from({ length: 60 }, (_, i) => now + 24 * HOUR + i * 60_000),
      );
      const [older] = await oneTimeTasks([now - 25 * HOUR]);
      await knex(TASKS)
        .where('id', older)
        .update({
          state: 'completed',
          sort_at: completedSortKey(now - 24 * HOUR),
        });
      await writeNextRuns(knex, [{ taskId: older, nextRunAt: null }]);
      const [task] = await oneTimeTasks([now - 1000]);

      const runs = await claimAndStart(now);
      expect([...runs.keys()]).toEqual([task]);
      const running = (await stores.tasks.getTask(task))!;
      expect(running).toMatchObject({
        state: 'active',
        nextRunAt: null,
        lastRun: { status: 'running' },
      });
      const firstPage = await stores.tasks.listTasks({ limit: 50 });
      expect(firstPage.items[0].id).toBe(task);

      // Claimed once: later rounds find nothing to claim for it, before and after its run ends.
      expect(await claim(now + 2 * 60_000)).toMatchObject({
        tasksClaimed: 0,
        runs: [],
      });

      const finishedAt = now + 5000;
      await stores.runStates.succeed(runs.get(task)!.id, result, {
        actor: 'test',
        claimToken: runs.get(task)!.claimToken,
        nowMs: finishedAt,
      });
      expect(await stateOf(task)).toBe('completed');
      expect(
        Number((await knex(TASKS).where('id', task).first()).sort_at),
      ).toBe(completedSortKey(finishedAt));
      const completed = await stores.tasks.listTasks({
        state: 'completed',
        limit: 10,
      });
      expect(completed.items.map(t => t.id)).toEqual([task, older]);
      // Unfiltered: right after every task that will still run, before the older completed one.
      const all = await stores.tasks.listTasks({ limit: 100 });
      expect(all.items.map(t => t.id)).toEqual([...upcoming, task, older]);

      expect(await claim(now + 10 * 60_000)).toMatchObject({
        tasksClaimed: 0,
        runs: [],
      });
      const [{ n }] = await knex(RUNS).where('task_id', task).count({ n: '*' });
      expect(Number(n)).toBe(1);
    });

    it('completes the task when its run fails for good or is dead-lettered, not while a retry is coming', async () => {
      const now = Date.now();
      const [failing, deadLettered] = await oneTimeTasks([
        now - 2000,
        now - 1000,
      ]);
      const runs = await claimAndStart(now);
      const report = (taskId: string, nowMs: number) => ({
        actor: 'test',
        claimToken: runs.get(taskId)!.claimToken,
        nowMs,
      });

      await stores.runStates.fail(
        runs.get(failing)!.id,
        { error: 'InstrumentFaultError: busy', retrying: true },
        report(failing, now + 1000),
      );
      expect(await stateOf(failing)).toBe('active');
      await stores.runStates.start(
        runs.get(failing)!.id,
        2,
        report(failing, now + 2000),
      );
      await stores.runStates.fail(
        runs.get(failing)!.id,
        { error: 'InstrumentFaultError: busy', retrying: false },
        report(failing, now + 3000),
      );
      expect(await stateOf(failing)).toBe('completed');

      expect(await stateOf(deadLettered)).toBe('active');
      await stores.runStates.fail(
        runs.get(deadLettered)!.id,
        {
          error: 'InstrumentFaultError: offline',
          retrying: false,
          deadLettered: true,
        },
        report(deadLettered, now + 4000),
      );
      expect(await stateOf(deadLettered)).toBe('completed');
    });

    it('completes the tasks of runs whose executor was lost or whose message the queue refused', async () => {
      const now = Date.now();
      const [lost, refused] = await oneTimeTasks([now - 3 * HOUR, now - 1000]);
      // The lost run started three hours ago and was never heard of again.
      const started = await claimAndStart(now - 3 * HOUR + 1000);
      const { runs } = await claim(now);
      const unpublishable = runs.find(r => r.taskId === refused)!;
      expect(await stateOf(lost)).toBe('active');
      expect(await stateOf(refused)).toBe('active');

      expect(await stores.runStates.failStaleRuns(now, 2 * HOUR)).toBe(1);
      expect(await stateOf(lost)).toBe('completed');
      expect(started.get(lost)).toBeDefined();

      expect(
        await stores.dispatch.failUnpublishable(
          [
            {
              id: unpublishable.id,
              claimToken: unpublishable.claimToken,
              error: 'MessageTooLong',
            },
          ],
          now,
        ),
      ).toBe(1);
      expect(await stateOf(refused)).toBe('completed');
    });

    it('completes at the claim a one-time task whose occurrence is skipped, unless another run of it is under way', async () => {
      const now = Date.now();
      // Both missed their instant by far more than the grace: the misfire policy skips them.
      const [alone, withManualRun] = await oneTimeTasks(
        [now - 2 * HOUR, now - 2 * HOUR + 1],
        'skip',
      );
      const manual = {
        id: timeOrderedUuid(now - 1000),
        task_id: withManualRun,
        instrument_ref: 'resource:default/instrument-1',
        scheduled_for: now - 1000,
        status: 'queued',
        attempt: 1,
        claim_token: newClaimToken(),
        triggered_by: 'user:default/ada',
        created_at: now - 1000,
      };
      await knex(RUNS).insert(manual);

      const { runs, skipped } = await claim(now);
      expect(runs).toEqual([]);
      expect(skipped).toBe(2);
      expect(await stateOf(alone)).toBe('completed');
      expect(await stateOf(withManualRun)).toBe('active');

      await stores.runStates.fail(
        manual.id,
        { error: 'InstrumentFaultError: x', retrying: false },
        { actor: 'test', claimToken: manual.claim_token, nowMs: now + 1000 },
      );
      expect(await stateOf(withManualRun)).toBe('completed');
    });

    it('sorts a task left with no next run at the latest occurrence a run of it is under way for: after a catch-up, the latest run the claim started; after a skip, the run it already had; after an edit, the latest of its runs', async () => {
      const now = Date.now();
      const lastHour = Math.floor(now / HOUR) * HOUR;
      // An hourly task whose end date passed half an hour after its occurrence at lastHour - 1 h: a
      // dispatcher down for three hours missed its last three occurrences, and misfire run_all runs
      // every one of them in one claim, leaving no next run.
      const [caughtUp] = await seedTasks(knex, [
        {
          schedule: {
            type: 'cron' as const,
            expression: '0 * * * *',
            timezone: 'UTC',
            endAt: new Date(lastHour - HOUR / 2).toISOString(),
          },
          nextRunAt: lastHour - 3 * HOUR,
          policies: {
            ...noGuards,
            misfire: 'run_all',
            misfireWindowSeconds: (4 * HOUR) / 1000,
          },
        },
      ]);
      // A one-time task whose occurrence the claim skips (overlap: skip), a manual run of it running.
      const { taskId: skipping } = await skippingTaskWithManualRunRunning(now);

      const { runs, skipped } = await claim(now);

      expect(runs.map(r => [r.taskId, r.scheduledFor])).toEqual([
        [caughtUp, lastHour - 3 * HOUR],
        [caughtUp, lastHour - 2 * HOUR],
        [caughtUp, lastHour - HOUR],
      ]);
      expect(skipped).toBe(1);
      const sortAt = async (id: string) =>
        Number((await knex(TASKS).where('id', id).first()).sort_at);
      expect(await stores.tasks.getTask(caughtUp)).toMatchObject({
        state: 'active',
        nextRunAt: null,
      });
      // Not the first occurrence taken (lastHour - 3 h), which sorted it among instants long past.
      expect(await sortAt(caughtUp)).toBe(lastHour - HOUR);
      // The skipped occurrence (now - 1 s) runs nothing: the run under way is for now - 5 s.
      expect(await stateOf(skipping)).toBe('active');
      expect(await sortAt(skipping)).toBe(now - 5000);

      // In the list: after a task due between the first and the latest occurrence the claim ran.
      const [between] = await oneTimeTasks([lastHour - 2 * HOUR - HOUR / 2]);
      const listed = (await stores.tasks.listTasks({ limit: 10 })).items.map(
        t => t.id,
      );
      expect(listed.filter(id => id === between || id === caughtUp)).toEqual([
        between,
        caughtUp,
      ]);

      // An edit that leaves no occurrence follows the same rule: two runs under way, the latest wins.
      const hourly = {
        type: 'cron' as const,
        expression: '0 * * * *',
        timezone: 'UTC',
      };
      const [edited] = await seedTasks(knex, [
        { schedule: hourly, nextRunAt: lastHour + HOUR, policies: noGuards },
      ]);
      await knex(RUNS).insert(
        [lastHour - HOUR, now - 2000].map(at => ({
          id: timeOrderedUuid(at),
          task_id: edited,
          scheduled_for: at,
          status: 'running',
          attempt: 1,
          started_at: at,
          created_at: at,
        })),
      );
      const task = (await stores.tasks.getTask(edited))!;
      await new TaskService({ store: stores.tasks }).update(
        task,
        task.version,
        { schedule: { ...hourly, endAt: new Date(now - HOUR).toISOString() } },
        { actor: 'user:default/ada', nowMs: now },
      );
      expect(await stateOf(edited)).toBe('active');
      expect(await sortAt(edited)).toBe(now - 2000);
    });

    it('keeps a task whose edit leaves no occurrence active while its run is under way, and completes it when the run ends', async () => {
      const now = Date.now();
      const hourly = {
        type: 'cron' as const,
        expression: '0 * * * *',
        timezone: 'UTC',
        endAt: new Date(now + 48 * HOUR).toISOString(),
      };
      // Both came due; one's run is running, the other's has ended.
      const [running, idle] = await seedTasks(knex, [
        { schedule: hourly, nextRunAt: now - 1000, policies: noGuards },
        { schedule: hourly, nextRunAt: now - 1000, policies: noGuards },
      ]);
      const runs = await claimAndStart(now);
      const report = (taskId: string, nowMs: number) => ({
        actor: 'test',
        claimToken: runs.get(taskId)!.claimToken,
        nowMs,
      });
      await stores.runStates.succeed(
        runs.get(idle)!.id,
        result,
        report(idle, now + 500),
      );
      const service = new TaskService({ store: stores.tasks });
      const endInThePast = {
        schedule: { ...hourly, endAt: new Date(now - HOUR).toISOString() },
      };
      const edit = async (taskId: string) => {
        const task = (await stores.tasks.getTask(taskId))!;
        return service.update(task, task.version, endInThePast, {
          actor: 'user:default/ada',
          nowMs: now + 1000,
        });
      };

      // No occurrence left: the task without a run under way completes at once...
      expect(await edit(idle)).toMatchObject({
        state: 'completed',
        nextRunAt: null,
      });
      // ...the one with a running run stays active, near the top (at its run's occurrence), until the run ends.
      expect(await edit(running)).toMatchObject({
        state: 'active',
        nextRunAt: null,
        lastRun: { status: 'running' },
      });
      expect(
        Number((await knex(TASKS).where('id', running).first()).sort_at),
      ).toBe(runs.get(running)!.scheduledFor);
      expect(await claim(now + 2 * HOUR)).toMatchObject({ tasksClaimed: 0 });
      expect(await stateOf(running)).toBe('active');

      await stores.runStates.succeed(
        runs.get(running)!.id,
        result,
        report(running, now + 5000),
      );
      expect(await stateOf(running)).toBe('completed');
      expect(
        Number((await knex(TASKS).where('id', running).first()).sort_at),
      ).toBe(completedSortKey(now + 5000));
    });

    /** Claims the pending ("run now") runs, publishes and starts them; returns them by task. */
    async function claimAndStartPending(nowMs: number) {
      const { runs } = await stores.dispatch.claimPendingRuns({
        instanceId: 'a',
        nowMs,
        batchSize: 100,
        leaseMs: 30_000,
      });
      await stores.dispatch.markPublished(
        runs.map(r => ({
          id: r.id,
          claimToken: r.claimToken,
          publishedAt: nowMs,
        })),
      );
      for (const run of runs) {
        const started = await stores.runStates.start(run.id, 1, {
          actor: 'test',
          claimToken: run.claimToken,
          nowMs,
        });
        expect(started.proceed).toBe(true);
      }
      return new Map(runs.map(r => [r.taskId, r]));
    }

    it('makes a completed task active again while a "run now" of it is under way, and completes it when that run ends', async () => {
      const now = Date.now();
      const [task] = await oneTimeTasks([now - 2 * HOUR]);
      await knex(TASKS)
        .where('id', task)
        .update({
          state: 'completed',
          sort_at: completedSortKey(now - HOUR),
        });
      await writeNextRuns(knex, [{ taskId: task, nextRunAt: null }]);

      const manual = await stores.tasks.triggerRun(
        task,
        'user:default/ada',
        now,
      );
      expect(manual.status).toBe('pending');
      expect(await stores.tasks.getTask(task)).toMatchObject({
        state: 'active',
        nextRunAt: null,
      });
      expect(
        Number((await knex(TASKS).where('id', task).first()).sort_at),
      ).toBe(now);

      const runs = await claimAndStartPending(now + 100);
      expect(runs.get(task)!.id).toBe(manual.id);
      expect(await stateOf(task)).toBe('active');
      await stores.runStates.succeed(manual.id, result, {
        actor: 'test',
        claimToken: runs.get(task)!.claimToken,
        nowMs: now + 5000,
      });
      expect(await stateOf(task)).toBe('completed');
      expect(
        Number((await knex(TASKS).where('id', task).first()).sort_at),
      ).toBe(completedSortKey(now + 5000));
    });

    if (databaseId === 'POSTGRES_15') {
      it('does not complete a task while a "run now" committing during the claim of its last occurrence is pending', async () => {
        const now = Date.now();
        const [task] = await oneTimeTasks([now - 1000]);

        // The trigger is held inside its transaction, after its run's insert and before it commits: its
        // audit insert waits for a lock on the audit table that this test holds.
        const auditLock = await knex.transaction();
        await auditLock.raw(`lock table ${AUDIT} in exclusive mode`);
        const triggering = stores.tasks.triggerRun(
          task,
          'user:default/ada',
          now,
        );
        await waitForLockWait(knex);

        // The claim runs while the trigger's pending run is not committed. The trigger holds the task's
        // lock, so the claim leaves the task for the next round; without that lock, it would see no run
        // under way and complete the task, and the trigger would then commit a pending run of a
        // completed task.
        const first = await claim(now);
        await auditLock.commit();
        const manual = await triggering;
        expect(first.tasksClaimed).toBe(0);
        expect(await stateOf(task)).toBe('active');

        // Next round: the occurrence is claimed, and the task stays active while the manual run is
        // pending; it completes when both runs have ended.
        const scheduled = await claimAndStart(now + 1000);
        expect(await stateOf(task)).toBe('active');
        const manualRuns = await claimAndStartPending(now + 1000);
        expect(manualRuns.get(task)!.id).toBe(manual.id);
        await stores.runStates.succeed(scheduled.get(task)!.id, result, {
          actor: 'test',
          claimToken: scheduled.get(task)!.claimToken,
          nowMs: now + 2000,
        });
        expect(await stateOf(task)).toBe('active');
        await stores.runStates.succeed(manual.id, result, {
          actor: 'test',
          claimToken: manualRuns.get(task)!.claimToken,
          nowMs: now + 3000,
        });
        expect(await stateOf(task)).toBe('completed');
      });

      it('does not leave a task active for ever when its run ends while an edit that leaves no occurrence decides', async () => {
        const now = Date.now();
        const hourly = {
          type: 'cron' as const,
          expression: '0 * * * *',
          timezone: 'UTC',
        };
        const [taskId] = await seedTasks(knex, [
          { schedule: hourly, nextRunAt: now - 1000, policies: noGuards },
        ]);
        const runs = await claimAndStart(now);
        const run = runs.get(taskId)!;

        // The run ends the way RunStateStore does it (task locked first), not committed yet: it sees a
        // next run, so it completes nothing. The edit waits for the task's lock, then sees the run ended.
        const ending = await knex.transaction();
        await lockTasksOfRuns(ending, [run.id]);
        await ending(RUNS)
          .where('id', run.id)
          .update({ status: 'succeeded', finished_at: now });
        expect(await completeEndedTasks(ending, [taskId], now)).toBe(0);
        const task = (await stores.tasks.getTask(taskId))!;
        const editing = new TaskService({ store: stores.tasks }).update(
          task,
          task.version,
          {
            schedule: {
              ...hourly,
              endAt: new Date(now - HOUR).toISOString(),
            },
          },
          { actor: 'user:default/ada', nowMs: now + 1000 },
        );
        await waitForLockWait(knex);
        await ending.commit();
        // Without the lock: active, no next run, nothing under way — for ever.
        expect(await editing).toMatchObject({ state: 'completed' });
      });

      it('does not leave a task active for ever when its other run ends while the claim of its last occurrence decides', async () => {
        const now = Date.now();
        // The occurrence is skipped (overlap: skip) because a manual run of the task is running.
        const { taskId, manualRunId: manualId } =
          await skippingTaskWithManualRunRunning(now);

        // The run ends the way RunStateStore does it, in a transaction that is not committed yet when the
        // claim runs: without the task lock, the claim would see the run still running (and keep the
        // task active), and the ending transaction had seen a next run (nothing to complete).
        const ending = await knex.transaction();
        await lockTasksOfRuns(ending, [manualId]);
        await ending(RUNS)
          .where('id', manualId)
          .update({ status: 'succeeded', finished_at: now });
        expect(await completeEndedTasks(ending, [taskId], now)).toBe(0);
        const first = await claim(now);
        await ending.commit();
        // The locked task was left for the next round.
        expect(first.tasksClaimed).toBe(0);

        // Next round: the manual run has ended, so the occurrence runs after all, and the task completes
        // when that run ends. (Without the lock: active, no next run, nothing under way — for ever.)
        const { runs } = await claim(now + 1000);
        expect(runs.map(r => r.taskId)).toEqual([taskId]);
        expect(await stateOf(taskId)).toBe('active');
        const [run] = runs;
        const report = {
          actor: 'test',
          claimToken: run.claimToken,
          nowMs: now + 2000,
        };
        await stores.runStates.start(run.id, 1, report);
        await stores.runStates.succeed(run.id, result, report);
        expect(await stateOf(taskId)).toBe('completed');
      });
    }
  },
);
