import { mockServices, TestDatabaseId } from '@backstage/backend-test-utils';
import type { RunMessage } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { seedDueTasks, seedTasks } from '../__testUtils__/seed';
import { LAB_SCHEDULER_DEFAULTS } from '../config/defaults';
import { requeueLostQueuedRuns } from '../execution/InProcessExecution';
import type { InProcessTaskQueue } from '../queue/InProcessTaskQueue';
import {
  applyDatabaseMigrations,
  createStores,
  migrationsDir,
} from './createStores';
import { newClaimToken } from './ids';
import { MIGRATIONS_TABLE } from './tables';
import { DispatchStore } from './DispatchStore';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const MIGRATIONS = {
  directory: migrationsDir,
  tableName: MIGRATIONS_TABLE,
};

describe.each(databaseIds)('migrations on %s', (databaseId: TestDatabaseId) => {
  let knex: Knex;

  beforeAll(async () => {
    knex = await databases.init(databaseId);
  });

  it('apply, roll back completely and apply again', async () => {
    await applyDatabaseMigrations(knex);
    const [, applied] = await knex.migrate.list(MIGRATIONS);
    expect(applied).toEqual([]);
    await knex.migrate.rollback(MIGRATIONS, true);
    expect(await knex.schema.hasTable('lab_scheduler_runs')).toBe(false);
    expect(await knex.schema.hasTable('lab_scheduler_tasks')).toBe(false);
    await applyDatabaseMigrations(knex);
    expect(await knex.schema.hasTable('lab_scheduler_runs')).toBe(true);
  });

  it('keeps the instrument guard unique only for held slots', async () => {
    await applyDatabaseMigrations(knex);
    const [taskId] = await seedTasks(knex, [
      {
        schedule: { type: 'once', at: new Date().toISOString() },
        nextRunAt: null,
      },
    ]);
    const run = (id: string, slot: number | null, at: number) => ({
      id,
      task_id: taskId,
      scheduled_for: at,
      status: 'pending',
      created_at: at,
      instrument_ref: 'resource:default/balance-1',
      slot,
    });
    // Runs without a slot never collide; two runs holding slot 0 of one instrument do.
    await knex('lab_scheduler_runs').insert([
      run('r-1', null, 1),
      run('r-2', null, 2),
      run('r-3', 0, 3),
    ]);
    await expect(
      knex('lab_scheduler_runs').insert(run('r-4', 0, 4)),
    ).rejects.toThrow(/unique/i);
    expect(
      Number((await knex('lab_scheduler_runs').count({ n: '*' }))[0].n),
    ).toBe(3);
  });

  it('task completion (20261129060000): up reopens tasks completed while a run is under way and sorts completed ones by their end; down restores the old rule', async () => {
    const migration = {
      ...MIGRATIONS,
      name: '20261129060000_task_completion.js',
    };
    await applyDatabaseMigrations(knex);
    await knex('lab_scheduler_runs').delete();
    await knex('lab_scheduler_tasks').delete();
    await knex.migrate.down(migration);
    const NEVER = 8_640_000_000_000_000;
    const once = { type: 'once' as const, at: '2026-11-29T09:00:00.000Z' };
    // As the old claim left them: completed at the claim, sorting last.
    const [running, ended, upcoming] = await seedTasks(knex, [
      { schedule: once, nextRunAt: null, state: 'completed' },
      { schedule: once, nextRunAt: null, state: 'completed' },
      { schedule: once, nextRunAt: 1_000_000 },
    ]);
    const run = (
      taskId: string,
      status: string,
      finishedAt: number | null,
    ) => ({
      id: randomUUID(),
      task_id: taskId,
      scheduled_for: 500_000,
      status,
      attempt: 1,
      created_at: 500_000,
      finished_at: finishedAt,
    });
    await knex('lab_scheduler_runs').insert([
      run(running, 'running', null),
      run(ended, 'succeeded', 600_000),
    ]);
    // By sort key, ties by id (in JS: the database's collation may order ids otherwise).
    const tasks = async () =>
      (await knex('lab_scheduler_tasks').select('id', 'state', 'sort_at'))
        .map(t => ({ id: t.id, state: t.state, sortAt: Number(t.sort_at) }))
        .sort((x, y) => x.sortAt - y.sortAt || (x.id < y.id ? -1 : 1));

    await knex.migrate.up(migration);
    expect(await tasks()).toEqual([
      { id: running, state: 'active', sortAt: 500_000 },
      { id: upcoming, state: 'active', sortAt: 1_000_000 },
      { id: ended, state: 'completed', sortAt: NEVER - 600_000 },
    ]);

    await knex.migrate.down(migration);
    expect(await tasks()).toEqual([
      { id: upcoming, state: 'active', sortAt: 1_000_000 },
      ...[
        { id: running, state: 'completed', sortAt: NEVER },
        { id: ended, state: 'completed', sortAt: NEVER },
      ].sort((x, y) => (x.id < y.id ? -1 : 1)),
    ]);
    await applyDatabaseMigrations(knex);
  });

  it('lost orphaned runs (20261129100000): runs a dead process left under way 30 days ago, whose tasks 20261129060000 reopened, end as lost; the sweeps measure none of them late and their tasks complete', async () => {
    const reopening = {
      ...MIGRATIONS,
      name: '20261129060000_task_completion.js',
    };
    const endingLost = {
      ...MIGRATIONS,
      name: '20261129100000_lost_orphaned_runs.js',
    };
    await applyDatabaseMigrations(knex);
    await knex('lab_scheduler_runs').delete();
    await knex('lab_scheduler_tasks').delete();
    await knex.migrate.down(endingLost);
    await knex.migrate.down(reopening);
    const NEVER = 8_640_000_000_000_000;
    const now = Date.now();
    const monthAgo = now - 30 * 24 * 3_600_000;
    const once = {
      type: 'once' as const,
      at: new Date(monthAgo).toISOString(),
    };
    // As the old claim left them: completed at the claim, sorting last, with their runs under way.
    const [pending, queued, running, measuring] = await seedTasks(
      knex,
      [0, 1, 2, 3].map(() => ({
        schedule: once,
        nextRunAt: null,
        state: 'completed' as const,
      })),
    );
    const run = (taskId: string, fields: Record<string, unknown>) => ({
      id: randomUUID(),
      task_id: taskId,
      instrument_ref: 'resource:default/instrument-0',
      scheduled_for: monthAgo,
      attempt: 0,
      claimed_by: 'dead-replica',
      claim_token: newClaimToken(),
      claimed_at: monthAgo,
      created_at: monthAgo,
      ...fields,
    });
    // A month ago a process died: its claim's lease ran out, its in-process queue and executor were gone.
    await knex('lab_scheduler_runs').insert([
      run(pending, { status: 'pending', lease_expires_at: monthAgo + 30_000 }),
      run(queued, {
        status: 'queued',
        attempt: 1,
        published_at: monthAgo + 100,
      }),
      run(running, {
        status: 'running',
        attempt: 1,
        published_at: monthAgo + 100,
        started_at: monthAgo + 200,
      }),
      // Not lost: an executor is measuring it now.
      run(measuring, {
        status: 'running',
        attempt: 1,
        scheduled_for: now - 60_000,
        claimed_at: now - 60_000,
        created_at: now - 60_000,
        published_at: now - 59_000,
        started_at: now - 58_000,
      }),
    ]);
    const tasks = async () =>
      Object.fromEntries<{ state: string; sortAt: number }>(
        (
          await knex('lab_scheduler_tasks').select('id', 'state', 'sort_at')
        ).map(t => [t.id, { state: t.state, sortAt: Number(t.sort_at) }]),
      );

    await knex.migrate.up(reopening);
    // 20261129060000 reopens every one of them, at its run's occurrence: first in the list.
    expect(Object.values(await tasks()).map(t => t.state)).toEqual([
      'active',
      'active',
      'active',
      'active',
    ]);
    await knex.migrate.up(endingLost);

    // The sweeps, as plugin.ts schedules them (in-process queue, default timeouts), at the first minute.
    const stores = await createStores({
      knex,
      runStates: {
        staleRunningMs: LAB_SCHEDULER_DEFAULTS.execution.runTimeoutMs,
      },
    });
    const lostRunTimeoutMs =
      LAB_SCHEDULER_DEFAULTS.execution.runTimeoutMs *
      LAB_SCHEDULER_DEFAULTS.execution.lostRunTimeoutPerRunTimeout;
    const failedStale = await stores.runStates.failStaleRuns(
      now,
      lostRunTimeoutMs,
    );
    const handed: RunMessage[] = [];
    const executor = {
      publish: async (messages: RunMessage[]) => {
        handed.push(...messages);
        return messages.map(() => ({ ok: true }));
      },
    } as unknown as InProcessTaskQueue;
    // At start-up: on SQLite every queued run, on PostgreSQL those queued longer than the timeout.
    await requeueLostQueuedRuns({
      dispatch: stores.dispatch,
      queue: executor,
      logger: mockServices.logger.mock(),
      queuedForMs: databaseId.startsWith('POSTGRES') ? lostRunTimeoutMs : 0,
      nowMs: now,
    });
    const recovered = await stores.dispatch.claimPendingRuns({
      instanceId: 'live-replica',
      nowMs: now,
      batchSize: LAB_SCHEDULER_DEFAULTS.dispatcher.batchSize,
      leaseMs: LAB_SCHEDULER_DEFAULTS.dispatcher.leaseMs,
    });

    // No run is measured a month late: none handed to the executor, none claimed for publishing.
    expect(handed.map(m => m.taskId)).toEqual([]);
    expect(recovered.runs.map(r => r.taskId)).toEqual([]);
    expect(failedStale).toBe(0);
    const runs = Object.fromEntries(
      (
        await knex('lab_scheduler_runs').select(
          'task_id',
          'status',
          'finished_at',
          'error',
          'claimed_by',
        )
      ).map(r => [r.task_id, r]),
    );
    // Ended at their last sign of life, so that no notification announces a month-old failure.
    for (const [taskId, lastSign] of [
      [pending, monthAgo + 30_000],
      [queued, monthAgo + 100],
      [running, monthAgo + 200],
    ] as const) {
      expect(runs[taskId]).toMatchObject({
        status: 'failed',
        claimed_by: null,
      });
      expect(Number(runs[taskId].finished_at)).toBe(lastSign);
      expect(runs[taskId].error).toMatch(/^Lost: no sign of life since/);
    }
    expect(runs[measuring]).toMatchObject({ status: 'running' });
    // Completed among the tasks that completed a month ago; the task being measured stays active.
    expect(await tasks()).toEqual({
      [pending]: { state: 'completed', sortAt: NEVER - (monthAgo + 30_000) },
      [queued]: { state: 'completed', sortAt: NEVER - (monthAgo + 100) },
      [running]: { state: 'completed', sortAt: NEVER - (monthAgo + 200) },
      [measuring]: { state: 'active', sortAt: now - 60_000 },
    });
  });

  if (databaseId.startsWith('POSTGRES')) {
    it('claims due tasks through the partial index, also before the table has statistics', async () => {
      await applyDatabaseMigrations(knex);
      const due = Date.now() - 1000;
      await seedDueTasks(knex, 3000, due);
      await knex.raw(
        `delete from pg_statistic where starelid = 'lab_scheduler_tasks'::regclass`,
      );
      const { rows } = await knex.raw(
        `explain select id from lab_scheduler_tasks
         where state = 'active' and next_run_at <= ? and deleted_at is null
         order by next_run_at limit 500 for update skip locked`,
        [Date.now()],
      );
      const plan = rows
        .map((r: Record<string, string>) => r['QUERY PLAN'])
        .join('\n');
      expect(plan).toContain('Index Scan using lab_scheduler_tasks_due_idx');
      expect(plan).not.toContain('Sort');
      const claim = await new DispatchStore(knex).claimDueTasks({
        instanceId: 'i',
        nowMs: Date.now(),
        batchSize: 500,
        leaseMs: 30_000,
        graceMs: 60_000,
      });
      expect(claim.runs).toHaveLength(500);

      // Pending runs: claimed in the order they became claimable, by an index scan that stops at the
      // limit, even with thousands of index entries left behind by runs published since.
      await new DispatchStore(knex).markPublished(
        claim.runs.map(r => ({
          id: r.id,
          claimToken: r.claimToken,
          publishedAt: Date.now(),
        })),
      );
      await knex.raw(
        `delete from pg_statistic where starelid = 'lab_scheduler_runs'::regclass`,
      );
      const pending = await knex.raw(
        `explain select id from lab_scheduler_runs
         where status = 'pending' and coalesce(lease_expires_at, 0) <= ? and scheduled_for <= ?
         order by coalesce(lease_expires_at, 0) limit 500 for no key update skip locked`,
        [Date.now(), Date.now()],
      );
      const pendingPlan = pending.rows
        .map((r: Record<string, string>) => r['QUERY PLAN'])
        .join('\n');
      expect(pendingPlan).toContain(
        'Index Scan using lab_scheduler_runs_pending_idx',
      );
      expect(pendingPlan).not.toContain('Sort');
    });
  }
});
