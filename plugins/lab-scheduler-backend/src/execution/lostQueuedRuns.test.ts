import { SchedulerService } from '@backstage/backend-plugin-api';
import {
  mockServices,
  ServiceMock,
  TestDatabaseId,
} from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import type { RunMessage } from '@lab-scheduler/plugin-lab-scheduler-common';
import { LocalRawDataStore } from '@lab-scheduler/plugin-lab-scheduler-node';
import { Knex } from 'knex';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { noGuards, seedTasks } from '../__testUtils__/seed';
import { startLabSchedulerBackend } from '../__testUtils__/testBackend';
import { createStores } from '../database/createStores';
import { RUN_EVENTS, RUNS, TASKS } from '../database/tables';
import { driversFromConfig } from './createExecutor';
import { createInProcessQueue } from './InProcessExecution';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const MINUTE = 60_000;
const REQUEUE_TASK_ID = 'lab-scheduler-requeue-lost-runs';
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/**
 * What a backend killed with runs in its in-process queue leaves behind, in a fresh database: `count`
 * one-time tasks whose runs its dispatcher claimed at `claimedAt` and handed to its queue at `queuedAt`,
 * none started. Returns the database, its stores, the tasks and the claimed runs (with their messages).
 */
async function runsQueuedByKilledBackend(
  databaseId: TestDatabaseId,
  options: { count: number; claimedAt: number; queuedAt: number },
) {
  const knex = await databases.init(databaseId);
  const stores = await createStores({
    knex,
    runStates: { staleRunningMs: 15 * MINUTE },
  });
  const { count, claimedAt, queuedAt } = options;
  const taskIds = await seedTasks(
    knex,
    Array.from({ length: count }, (_, i) => ({
      schedule: {
        type: 'once' as const,
        at: new Date(claimedAt - i).toISOString(),
      },
      nextRunAt: claimedAt - i,
      policies: noGuards,
    })),
  );
  const { runs } = await stores.dispatch.claimDueTasks({
    instanceId: 'killed',
    nowMs: claimedAt,
    batchSize: 10,
    leaseMs: 30_000,
    graceMs: 60 * MINUTE,
  });
  expect(runs).toHaveLength(count);
  await stores.dispatch.markPublished(
    runs.map(r => ({
      id: r.id,
      claimToken: r.claimToken,
      publishedAt: queuedAt,
    })),
  );
  expect(await knex(RUNS).pluck('status')).toEqual(Array(count).fill('queued'));
  return { knex, stores, taskIds, runs };
}

/** The backend the current test started: stopped after it, whatever the outcome. */
let backend: Awaited<ReturnType<typeof startLabSchedulerBackend>> | undefined;

afterEach(async () => {
  await backend?.stop();
  backend = undefined;
});

/** Polls the runs' statuses (sorted) until `done` accepts them, for at most 10 s; returns the last. */
async function waitForRunStatuses(
  knex: Knex,
  done: (statuses: string[]) => boolean,
): Promise<string[]> {
  let statuses: string[] = [];
  for (let i = 0; i < 500; i++) {
    statuses = (await knex(RUNS).pluck('status')).sort();
    if (done(statuses)) break;
    await sleep(20);
  }
  return statuses;
}

/**
 * Every report of a run's start or end, accepted or refused, counted: `<run id> <event> <accepted> <n>`.
 * A run measured once, by one delivery of its message, has one accepted start and one accepted success
 * and nothing else: a copy handed on again shows as a refused start.
 */
async function reportsOfRuns(knex: Knex): Promise<string[]> {
  const rows: {
    run_id: string;
    event: string;
    accepted: boolean | number;
    n: number | string;
  }[] = await knex(RUN_EVENTS)
    .select('run_id', 'event', 'accepted')
    .count({ n: '*' })
    .groupBy('run_id', 'event', 'accepted');
  return rows
    .map(r => `${r.run_id} ${r.event} ${Boolean(r.accepted)} ${Number(r.n)}`)
    .sort();
}

const measuredOnce = (runIds: string[]) =>
  runIds
    .flatMap(id => [`${id} started true 1`, `${id} succeeded true 1`])
    .sort();

/**
 * A backend with the in-process queue (lost-run timeout 1 min): `concurrency` measurements at a time,
 * each taking `delay`. With `scheduler`, its housekeeping tasks run only when the test calls them. It is
 * the test's `backend` (stopped after the test); returns its execution settings.
 */
async function startInProcessBackend(
  knex: Knex,
  options: {
    rawDir: string;
    concurrency: number;
    delay: string;
    scheduler?: ServiceMock<SchedulerService>;
  },
) {
  const execution = {
    rawDataDirectory: options.rawDir,
    lostRunTimeout: '1m',
    simulated: { allowed: true, faultRate: 0, delay: options.delay },
  };
  backend = await startLabSchedulerBackend(
    knex,
    {
      labScheduler: {
        dispatcher: { enabled: true, pollInterval: '200ms' },
        queue: {
          type: 'inProcess',
          inProcess: { concurrency: options.concurrency },
        },
        execution,
      },
    },
    options.scheduler ? [options.scheduler.factory] : [],
  );
  return execution;
}

/**
 * startInProcessBackend with a stand-in scheduler that runs no housekeeping task by itself (at the start
 * or later): returns a run of the requeue task the plugin scheduled, for the test to call when it likes.
 */
async function startWithScheduledRequeue(
  knex: Knex,
  options: { concurrency: number; delay: string },
) {
  const scheduler = mockServices.scheduler.mock();
  await startInProcessBackend(knex, {
    rawDir: mkdtempSync(join(tmpdir(), 'lab-raw-')),
    ...options,
    scheduler,
  });
  const task = scheduler.scheduleTask.mock.calls
    .map(([t]) => t)
    .find(t => t.id === REQUEUE_TASK_ID);
  if (!task) throw new Error(`${REQUEUE_TASK_ID} was not scheduled`);
  return () => task.fn(new AbortController().signal);
}

/**
 * A run whose attempt failed with a retry coming is queued again, in memory: a backend killed before the
 * retry loses it, and the run is queued again after the restart. It keeps the count of its deliveries,
 * as an SQS message keeps its receive count: the attempts it had are not given again.
 */
describe.each(databaseIds)(
  'a retried run queued again after a restart, on %s',
  (databaseId: TestDatabaseId) => {
    it('gets only the attempts it has left, then fails for good', async () => {
      const now = Date.now();
      const { knex, stores, runs } = await runsQueuedByKilledBackend(
        databaseId,
        { count: 1, claimedAt: now - 10 * MINUTE, queuedAt: now - 10 * MINUTE },
      );
      const [run] = runs;
      // Its first attempt failed with a retry coming; then the backend was killed.
      const report = {
        actor: 'killed',
        claimToken: run.claimToken,
        nowMs: now - 9 * MINUTE,
      };
      await stores.runStates.start(run.id, 1, report);
      await stores.runStates.fail(
        run.id,
        { error: 'InstrumentFaultError: offline', retrying: true },
        report,
      );
      const [requeued] = await stores.dispatch.takeLostQueuedRuns({
        queuedBeforeMs: now,
        nowMs: now,
        batchSize: 10,
      });
      expect(requeued.attempt).toBe(2);

      // The instrument is still at fault on every attempt.
      let finished!: () => void;
      const done = new Promise<void>(resolve => {
        finished = resolve;
      });
      const queue = createInProcessQueue({
        runStates: stores.runStates,
        drivers: driversFromConfig(
          new ConfigReader({
            simulated: { allowed: true, faultRate: 1, delay: '1ms' },
          }),
        ),
        rawData: new LocalRawDataStore(mkdtempSync(join(tmpdir(), 'lab-raw-'))),
        logger: mockServices.logger.mock(),
        concurrency: 1,
        maxAttempts: 3,
        retryDelayMs: 1,
        onRunFinished: () => finished(),
      });
      await queue.publish([requeued]);
      await done;
      await queue.close();

      const starts = await knex(RUN_EVENTS)
        .where({ run_id: run.id, event: 'started', accepted: true })
        .pluck('detail');
      // Attempt 1 before the restart; attempts 2 and 3 after it.
      expect(starts.map(d => JSON.parse(d).attempt)).toEqual([1, 2, 3]);
      expect(
        await knex(RUNS).where({ id: run.id }).first('status', 'attempt'),
      ).toEqual({ status: 'failed', attempt: 3 });
    });
  },
);

/**
 * The in-process queue lives in memory. A backend killed with runs queued in it left them queued for
 * ever, and their one-time tasks active. A backend started again queues them again (at the start on
 * SQLite; after the lost-run timeout on PostgreSQL), and every run is measured exactly once, even with a
 * copy of its message still delivered by the process that queued it first.
 */
describe.each(databaseIds)(
  'runs queued by a killed in-process backend, on %s',
  (databaseId: TestDatabaseId) => {
    it('are measured once each after a restart, and their one-time tasks complete', async () => {
      const now = Date.now();
      // Queued by the killed backend ten minutes ago: past the lost-run timeout on either database.
      const { knex, stores, taskIds, runs } = await runsQueuedByKilledBackend(
        databaseId,
        {
          count: 3,
          claimedAt: now - 10 * MINUTE,
          queuedAt: now - 10 * MINUTE,
        },
      );

      const rawDir = mkdtempSync(join(tmpdir(), 'lab-raw-'));
      const execution = await startInProcessBackend(knex, {
        rawDir,
        concurrency: 3,
        delay: '300ms',
      });
      // A copy of the first run's message, still delivered (as by a process that was not dead after
      // all) while the restarted backend measures it: the executor starts the run once, whichever copy
      // comes first. The other runs only the restarted backend can measure.
      const copies = createInProcessQueue({
        runStates: stores.runStates,
        drivers: driversFromConfig(new ConfigReader(execution)),
        rawData: new LocalRawDataStore(rawDir),
        logger: mockServices.logger.mock(),
        concurrency: 3,
        maxAttempts: 1,
        retryDelayMs: 10,
        onRunFinished: () => {},
      });
      await copies.publish([runs[0].message as RunMessage]);

      await waitForRunStatuses(knex, s => s.every(x => x === 'succeeded'));
      await copies.close();
      expect(await knex(RUNS).pluck('status')).toEqual([
        'succeeded',
        'succeeded',
        'succeeded',
      ]);
      // Exactly one measurement per run: one accepted start and one accepted success each.
      expect(
        (await reportsOfRuns(knex)).filter(r => / true \d+$/.test(r)),
      ).toEqual(measuredOnce(runs.map(r => r.id)));
      expect(await knex(TASKS).whereIn('id', taskIds).pluck('state')).toEqual([
        'completed',
        'completed',
        'completed',
      ]);
    });
  },
);

// On SQLite one process owns the file, so a killed backend's runs are all taken at the next start (the
// test above); only on PostgreSQL does a live replica have to find them later, by the clock.
const onPostgres = databaseIds.includes('POSTGRES_15')
  ? describe
  : describe.skip;

onPostgres('runs queued by a killed replica, on POSTGRES_15', () => {
  it('are handed on by the scheduled requeue once past the lost-run timeout, once per timeout, and measured once', async () => {
    const now = Date.now();
    // Queued half a lost-run timeout ago by a replica killed since: not lost yet when this one starts.
    const { knex, taskIds, runs } = await runsQueuedByKilledBackend(
      'POSTGRES_15',
      { count: 2, claimedAt: now - 40_000, queuedAt: now - 30_000 },
    );
    // One measurement at a time, each 1 s: the second run handed on waits in this replica's queue.
    const requeue = await startWithScheduledRequeue(knex, {
      concurrency: 1,
      delay: '1s',
    });
    const queuedAt = async () =>
      (await knex(RUNS).orderBy('id').pluck('published_at')).map(Number);

    // Within the timeout the runs are left alone, at the start and by the scheduled task.
    await requeue();
    expect(await knex(RUNS).pluck('status')).toEqual(['queued', 'queued']);
    expect(await queuedAt()).toEqual([now - 30_000, now - 30_000]);
    expect(await reportsOfRuns(knex)).toEqual([]);

    // The clock moves on by a timeout: the runs have been queued for 90 s now.
    await knex(RUNS).update({
      published_at: knex.raw('published_at - ?', [MINUTE]),
    });
    const handedOnFrom = Date.now();
    await requeue();
    const handedOn = await queuedAt();
    for (const at of handedOn) {
      expect(at).toBeGreaterThanOrEqual(handedOnFrom);
    }
    // The housekeeping task's next run, a minute later in production and at once here, leaves them:
    // they were handed on within the timeout (the second still waits in this replica's queue).
    expect(await knex(RUNS).pluck('status')).toContain('queued');
    await requeue();
    expect(await queuedAt()).toEqual(handedOn);

    expect(
      await waitForRunStatuses(knex, s => s.every(x => x === 'succeeded')),
    ).toEqual(['succeeded', 'succeeded']);
    expect(await reportsOfRuns(knex)).toEqual(
      measuredOnce(runs.map(r => r.id)),
    );
    expect(await knex(TASKS).whereIn('id', taskIds).pluck('state')).toEqual([
      'completed',
      'completed',
    ]);
  });
});

/**
 * The scheduled requeue must not take a run that waits in a live queue: on either database, runs this
 * backend queued moments ago and is about to measure are not handed on again while it measures another.
 */
describe.each(databaseIds)(
  'runs queued recently, on %s',
  (databaseId: TestDatabaseId) => {
    it('are left alone by the scheduled requeue: no second message, measured once', async () => {
      const knex = await databases.init(databaseId);
      const requeue = await startWithScheduledRequeue(knex, {
        concurrency: 1,
        delay: '2s',
      });
      // Two one-time tasks due now, after the start: this backend's dispatcher queues both runs, and its
      // queue (one at a time, 2 s each) measures one while the other waits.
      await seedTasks(
        knex,
        [0, 1].map(i => ({
          schedule: {
            type: 'once' as const,
            at: new Date(Date.now() - i).toISOString(),
          },
          nextRunAt: Date.now() - i,
          policies: noGuards,
        })),
      );
      expect(
        await waitForRunStatuses(
          knex,
          s => s.join() === ['queued', 'running'].join(),
        ),
      ).toEqual(['queued', 'running']);
      const waiting = await knex(RUNS).where('status', 'queued').first();

      await requeue();
      const after = await knex(RUNS).where('id', waiting.id).first();
      expect(Number(after.published_at)).toBe(Number(waiting.published_at));

      expect(
        await waitForRunStatuses(knex, s => s.every(x => x === 'succeeded')),
      ).toEqual(['succeeded', 'succeeded']);
      expect(await reportsOfRuns(knex)).toEqual(
        measuredOnce(await knex(RUNS).pluck('id')),
      );
    });
  },
);

/**
 * A backend killed while measuring leaves its runs "running": nothing will report them. On SQLite the
 * restarted backend (the file's only process) fails them at once, saying why, so that their instrument's
 * slot and their tasks are not held for the lost-run timeout; on PostgreSQL another replica may still be
 * measuring them, and they are left to that timeout.
 */
async function runsLeftRunningThenRestart(databaseId: TestDatabaseId) {
  const now = Date.now();
  const { knex, stores, taskIds, runs } = await runsQueuedByKilledBackend(
    databaseId,
    { count: 2, claimedAt: now - 2 * MINUTE, queuedAt: now - 2 * MINUTE },
  );
  // The killed backend had started both, 30 s ago (within the test's 1-minute lost-run timeout).
  for (const run of runs) {
    const { proceed } = await stores.runStates.start(run.id, 1, {
      actor: 'test',
      claimToken: run.claimToken,
      nowMs: now - 30_000,
    });
    expect(proceed).toBe(true);
  }
  await startInProcessBackend(knex, {
    rawDir: mkdtempSync(join(tmpdir(), 'lab-raw-')),
    concurrency: 1,
    delay: '10ms',
  });
  return { knex, taskIds };
}

describe('runs left running by a killed in-process backend, on SQLITE_3', () => {
  it('are failed at the restart, saying why, and their one-time tasks complete', async () => {
    const { knex, taskIds } = await runsLeftRunningThenRestart('SQLITE_3');

    const statuses = await waitForRunStatuses(knex, s =>
      s.every(x => x === 'failed'),
    );
    expect(statuses).toEqual(['failed', 'failed']);
    expect(await knex(RUNS).distinct('error').pluck('error')).toEqual([
      'The backend stopped while this run was being measured',
    ]);
    expect(await knex(TASKS).whereIn('id', taskIds).pluck('state')).toEqual([
      'completed',
      'completed',
    ]);
  });
});

onPostgres(
  'runs left running by a killed in-process replica, on POSTGRES_15',
  () => {
    it('are left running for the lost-run timeout', async () => {
      const { knex } = await runsLeftRunningThenRestart('POSTGRES_15');

      // The start-up is over (its hooks ran) and the backend has worked for a second: nothing failed them
      // before the timeout.
      await sleep(1000);
      expect((await knex(RUNS).pluck('status')).sort()).toEqual([
        'running',
        'running',
      ]);
    });
  },
);
