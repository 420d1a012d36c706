import { mockServices, TestDatabaseId } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { DEFAULT_TASK_POLICIES } from '@lab-scheduler/plugin-lab-scheduler-common';
import { LocalRawDataStore } from '@lab-scheduler/plugin-lab-scheduler-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { createStores } from '../database/createStores';
import { Dispatcher } from '../dispatcher/Dispatcher';
import { driversFromConfig } from './createExecutor';
import { createInProcessQueue } from './InProcessExecution';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const logger = mockServices.logger.mock();

/*
 * The callbacks the plugin turns into run-update signals (RunUpdateSignals), on a real dispatcher, the
 * in-process queue and executor and a real database: open pages hear about a run when it is claimed
 * and queued and when it starts, not only when it ends, so "Running" shows live.
 */
describe.each(databaseIds)(
  'run update callbacks on %s',
  (databaseId: TestDatabaseId) => {
    it('tells of a run when it is queued, when it starts (then running) and when it ends', async () => {
      const knex = await databases.init(databaseId);
      const stores = await createStores({
        knex,
        runStates: { staleRunningMs: 60_000 },
      });
      const rawDataDirectory = mkdtempSync(join(tmpdir(), 'run-updates-'));
      const events: string[] = [];
      let statusAtStart: Promise<string> | undefined;
      const status = async () =>
        (await knex('lab_scheduler_runs').first('status')).status as string;
      const queue = createInProcessQueue({
        runStates: stores.runStates,
        drivers: driversFromConfig(
          new ConfigReader({
            simulated: { allowed: true, faultRate: 0, delay: '300ms' },
          }),
        ),
        rawData: new LocalRawDataStore(rawDataDirectory),
        logger,
        concurrency: 1,
        maxAttempts: 1,
        retryDelayMs: 10,
        onRunStarted: () => {
          events.push('started');
          // Read at once: the run is running in the database when its start is told (300 ms to go).
          statusAtStart ??= status();
        },
        onRunFinished: () => events.push('finished'),
      });
      const dispatcher = new Dispatcher({
        store: stores.dispatch,
        queue,
        logger,
        onRunsChanged: () => events.push('queued'),
      });
      try {
        const now = Date.now();
        await stores.tasks.createTask(
          {
            name: 'Task',
            description: '',
            instrumentRef: 'resource:default/plate-reader-1',
            owner: 'group:default/lab-ops',
            measurement: {
              type: 'absorbance-spectrum',
              parameters: { startNm: 230 },
            },
            schedule: { type: 'once', at: new Date(now - 10).toISOString() },
            policies: DEFAULT_TASK_POLICIES,
            state: 'active',
            nextRunAt: now - 10,
          },
          'user:default/ada',
          now,
        );
        const result = await dispatcher.tick();
        expect(result.published).toBe(1);
        const deadline = Date.now() + 20_000;
        while (!events.includes('finished') && Date.now() < deadline) {
          await new Promise(r => setTimeout(r, 50));
        }
        // Told when claimed (pending), before the executor starts it; the publish (queued) may be told
        // before or after the start, which the in-process queue begins at once.
        expect(events[0]).toBe('queued');
        expect(events.filter(e => e !== 'queued')).toEqual([
          'started',
          'finished',
        ]);
        expect(await statusAtStart).toBe('running');
        expect(await status()).toBe('succeeded');
      } finally {
        await queue.close();
        rmSync(rawDataDirectory, { recursive: true, force: true });
      }
    });
  },
);
