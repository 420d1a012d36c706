import { DatabaseService } from '@backstage/backend-plugin-api';
import { TestDatabaseId } from '@backstage/backend-test-utils';
import { DEFAULT_TASK_POLICIES } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { createStores } from './createStores';
import { MIGRATIONS_TABLE, RUNS, TASKS } from './tables';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const runStates = { staleRunningMs: 60_000 };

/** The plugin's database service over `knex`, as the backend hands it over. */
function databaseService(knex: Knex, skip?: boolean): DatabaseService {
  return {
    getClient: async () => knex,
    ...(skip === undefined ? {} : { migrations: { skip } }),
  };
}

describe.each(databaseIds)(
  'createStores on %s',
  (databaseId: TestDatabaseId) => {
    it('migrates, and its stores share the database: a task created is claimed, started and listed', async () => {
      const knex = await databases.init(databaseId);
      const stores = await createStores({
        database: databaseService(knex),
        runStates,
      });
      expect(stores.knex).toBe(knex);
      expect(await knex.schema.hasTable(TASKS)).toBe(true);

      const nowMs = Date.now();
      const task = await stores.tasks.createTask(
        {
          name: 'Weigh',
          description: '',
          instrumentRef: 'resource:default/balance-1',
          owner: 'group:default/lab-ops',
          measurement: { type: 'mass-reading', parameters: {} },
          schedule: { type: 'once', at: new Date(nowMs - 1000).toISOString() },
          policies: { ...DEFAULT_TASK_POLICIES, instrumentConcurrency: null },
          state: 'active',
          nextRunAt: nowMs - 1000,
        },
        'user:default/ada',
        nowMs,
      );
      const claim = await stores.dispatch.claimDueTasks({
        instanceId: 'test',
        nowMs,
        batchSize: 10,
        leaseMs: 30_000,
        graceMs: 60_000,
      });
      expect(claim.runs.map(r => r.taskId)).toEqual([task.id]);
      const [run] = claim.runs;
      expect(await stores.runQueue.waitingRuns([run.id])).toEqual([
        expect.objectContaining({ id: run.id, status: 'pending' }),
      ]);
      const started = await stores.runStates.start(run.id, 1, {
        actor: 'test',
        claimToken: run.claimToken,
        nowMs,
      });
      expect(started.proceed).toBe(true);
      expect(
        await stores.instrumentCapacities.apply(
          'resource:default/balance-1',
          2,
        ),
      ).toBe(1);
      const page = await stores.recentResults.listRecentResults({ limit: 10 });
      expect(page.items).toEqual([]);
    });

    it('keeps the schema as it is when the database service says to skip migrations', async () => {
      const knex = await databases.init(databaseId);
      await createStores({ database: databaseService(knex, true), runStates });
      expect(await knex.schema.hasTable(MIGRATIONS_TABLE)).toBe(false);
      expect(await knex.schema.hasTable(RUNS)).toBe(false);
    });

    it('keeps the schema as it is with skipMigrations, and migrates a client given as it is', async () => {
      const knex = await databases.init(databaseId);
      await createStores({ knex, skipMigrations: true, runStates });
      expect(await knex.schema.hasTable(RUNS)).toBe(false);
      await createStores({ knex, runStates });
      expect(await knex.schema.hasTable(RUNS)).toBe(true);
    });
  },
);
