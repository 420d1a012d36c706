import { TestDatabaseId } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import {
  createTestDatabases,
  databaseIds,
  waitForLockWait,
} from '../__testUtils__/databases';
import { noGuards, seedDueTasks, seedTasks } from '../__testUtils__/seed';
import { applyDatabaseMigrations } from './createStores';
import { DispatchStore } from './DispatchStore';
import { newClaimToken, timeOrderedUuid } from './ids';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const RUNS = 'lab_scheduler_runs';

describe.each(databaseIds)(
  'DispatchStore on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let store: DispatchStore;
    let failedStatements: string[];

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
      store = new DispatchStore(knex);
      knex.on('query-error', (_error, query) =>
        failedStatements.push(query.sql),
      );
    });

    beforeEach(async () => {
      failedStatements = [];
      await knex(RUNS).delete();
      await knex('lab_scheduler_tasks').delete();
    });

    /** Two one-time tasks due at `at`. */
    async function twoDueTasks(at: number) {
      return seedTasks(
        knex,
        [0, 1].map(() => ({
          schedule: { type: 'once' as const, at: new Date(at).toISOString() },
          nextRunAt: at,
          policies: noGuards,
        })),
      );
    }

    /** A run for the task's occurrence at `at`, as "run now" creates it in the same millisecond. */
    const manualRun = (taskId: string, at: number) => ({
      id: timeOrderedUuid(at),
      task_id: taskId,
      instrument_ref: 'resource:default/instrument-0',
      scheduled_for: at,
      status: 'pending',
      attempt: 0,
      claim_token: newClaimToken(),
      triggered_by: 'user:default/ada',
      created_at: at,
    });

    const claim = () =>
      store.claimDueTasks({
        instanceId: 'a',
        nowMs: Date.now(),
        batchSize: 10,
        leaseMs: 30_000,
        graceMs: 60_000,
      });

    async function expectOneRunPerOccurrence(taskIds: string[]) {
      const rows = await knex(RUNS).select('task_id');
      expect(rows.map(r => r.task_id).sort()).toEqual([...taskIds].sort());
    }

    it('keeps the run an occurrence already has, claims the others, and leaves both tasks active while their runs are under way', async () => {
      const at = Date.now() - 100;
      const [taken, free] = await twoDueTasks(at);
      const existing = manualRun(taken, at);
      await knex(RUNS).insert(existing);

      const result = await claim();

      expect(result.tasksClaimed).toBe(2);
      expect(result.runs.map(r => r.taskId)).toEqual([free]);
      await expectOneRunPerOccurrence([taken, free]);
      expect(await knex(RUNS).where({ task_id: taken }).first()).toMatchObject({
        id: existing.id,
        claimed_by: null,
      });
      // Neither completes before its run ends (see taskCompletion.test.ts).
      const states = await knex('lab_scheduler_tasks').pluck('state');
      expect(states).toEqual(['active', 'active']);
      // Left out before the insert, not refused by the key (which would cost a second claim).
      expect(failedStatements).toEqual([]);
    });

    it('completes a task whose last occurrence already has a run that has ended, and claims no run for it', async () => {
      const at = Date.now() - 100;
      const [taken, free] = await twoDueTasks(at);
      // "Run now" at the occurrence's instant, already finished when the claim comes.
      await knex(RUNS).insert({
        ...manualRun(taken, at),
        status: 'succeeded',
        finished_at: at + 50,
      });

      const result = await claim();

      expect(result.runs.map(r => r.taskId)).toEqual([free]);
      await expectOneRunPerOccurrence([taken, free]);
      const state = async (id: string) =>
        (await knex('lab_scheduler_tasks').where({ id }).first()).state;
      expect(await state(taken)).toBe('completed');
      expect(await state(free)).toBe('active');
    });

    if (databaseId === 'POSTGRES_15') {
      it('probes the occurrence key per run instead of scanning the run history, before any statistics', async () => {
        // 30,000 runs of history and no statistics (a fresh table, autovacuum not yet there): a plan
        // that hashes the whole history would be re-run by every claim.
        await knex.raw(
          `insert into ${RUNS} (id, task_id, scheduled_for, status, attempt, created_at)
         select 'h' || g, 'old-task', g, 'succeeded', 1, 0 from generate_series(1, 30000) g`,
        );
        // A full batch: against a few rows the planner probes anyway.
        await seedDueTasks(knex, 500, Date.now() - 100);
        const statements: { sql: string; bindings: unknown[] }[] = [];
        const capture = (query: { sql: string; bindings: unknown[] }) => {
          if (/insert into lab_scheduler_runs/i.test(query.sql))
            statements.push(query);
        };
        knex.on('query', capture);
        try {
          const result = await store.claimDueTasks({
            instanceId: 'a',
            nowMs: Date.now(),
            batchSize: 500,
            leaseMs: 30_000,
            graceMs: 60_000,
          });
          expect(result.runs).toHaveLength(500);
        } finally {
          knex.removeListener('query', capture);
        }
        expect(statements).toHaveLength(1);
        const connection = await knex.client.acquireConnection();
        try {
          const { rows } = await connection.query(
            `explain ${statements[0].sql}`,
            statements[0].bindings,
          );
          const plan = rows.map((r: Record<string, string>) => r['QUERY PLAN']);
          expect(plan.join('\n')).toMatch(
            /Index Only Scan using lab_scheduler_runs_occurrence_uniq/,
          );
          expect(plan.join('\n')).not.toMatch(/Seq Scan on lab_scheduler_runs/);
        } finally {
          await knex.client.releaseConnection(connection);
        }
      });

      it('claims again when a run for its occurrence commits after its snapshot', async () => {
        const at = Date.now() - 100;
        const [taken, free] = await twoDueTasks(at);
        const concurrent = manualRun(taken, at);
        const trigger = await knex.transaction();
        await trigger(RUNS).insert(concurrent);

        // The claim's insert waits for the uncommitted row's key; the row then commits.
        const claiming = claim();
        await waitForLockWait(knex);
        await trigger.commit();
        const result = await claiming;

        expect(failedStatements).toHaveLength(1);
        expect(result.runs.map(r => r.taskId)).toEqual([free]);
        await expectOneRunPerOccurrence([taken, free]);
        expect(
          await knex(RUNS).where({ task_id: taken }).first(),
        ).toMatchObject({ id: concurrent.id, claimed_by: null });
        expect(await knex('lab_scheduler_tasks').pluck('state')).toEqual([
          'active',
          'active',
        ]);
      });
    }
  },
);
