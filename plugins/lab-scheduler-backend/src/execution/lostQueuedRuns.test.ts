import { mockServices, TestDatabaseId } from '@backstage/backend-test-utils';
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
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/**
 * The in-process queue lives in memory. A backend killed with runs queued in it left them queued for
 * ever, and their one-time tasks active. A backend started again queues them again (at the start on
 * SQLite; after the lost-run timeout on PostgreSQL), and every run is measured exactly once, even with a
 * copy of its message still delivered by the process that queued it first.
 */
describe.each(databaseIds)(
  'runs queued by a killed in-process backend, on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let backend: Awaited<ReturnType<typeof startLabSchedulerBackend>>;

    afterEach(async () => {
      await backend?.stop();
    });

    it('are measured once each after a restart, and their one-time tasks complete', async () => {
      knex = await databases.init(databaseId);
      const stores = await createStores({
        knex,
        runStates: { staleRunningMs: 15 * MINUTE },
      });
      const now = Date.now();
      // What the killed backend left: three one-time tasks whose runs its dispatcher claimed and
      // handed to its in-process queue ten minutes ago, none started.
      const taskIds = await seedTasks(
        knex,
        [0, 1, 2].map(i => ({
          schedule: {
            type: 'once' as const,
            at: new Date(now - 10 * MINUTE - i).toISOString(),
          },
          nextRunAt: now - 10 * MINUTE - i,
          policies: noGuards,
        })),
      );
      const { runs } = await stores.dispatch.claimDueTasks({
        instanceId: 'killed',
        nowMs: now - 10 * MINUTE,
        batchSize: 10,
        leaseMs: 30_000,
        graceMs: 60 * MINUTE,
      });
      expect(runs).toHaveLength(3);
      await stores.dispatch.markPublished(
        runs.map(r => ({
          id: r.id,
          claimToken: r.claimToken,
          publishedAt: now - 10 * MINUTE,
        })),
      );
      expect(await knex(RUNS).pluck('status')).toEqual([
        'queued',
        'queued',
        'queued',
      ]);

      const rawDir = mkdtempSync(join(tmpdir(), 'lab-raw-'));
      const execution = {
        rawDataDirectory: rawDir,
        lostRunTimeout: '1m',
        simulated: { allowed: true, faultRate: 0, delay: '300ms' },
      };
      backend = await startLabSchedulerBackend(knex, {
        labScheduler: {
          dispatcher: { enabled: true, pollInterval: '1s' },
          queue: { type: 'inProcess', concurrency: 3 },
          execution,
        },
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

      for (let i = 0; i < 200; i++) {
        const statuses: string[] = await knex(RUNS).pluck('status');
        if (statuses.every(s => s === 'succeeded')) break;
        await sleep(50);
      }
      await copies.close();
      expect(await knex(RUNS).pluck('status')).toEqual([
        'succeeded',
        'succeeded',
        'succeeded',
      ]);
      // Exactly one measurement per run: one accepted start and one accepted success each.
      const accepted: { run_id: string; event: string; n: number | string }[] =
        await knex(RUN_EVENTS)
          .select('run_id', 'event')
          .count({ n: '*' })
          .where('accepted', true)
          .groupBy('run_id', 'event');
      expect(
        accepted.map(a => `${a.run_id} ${a.event} ${Number(a.n)}`).sort(),
      ).toEqual(
        runs.flatMap(r => [`${r.id} started 1`, `${r.id} succeeded 1`]).sort(),
      );
      expect(await knex(TASKS).whereIn('id', taskIds).pluck('state')).toEqual([
        'completed',
        'completed',
        'completed',
      ]);
    });
  },
);
