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
import { MIGRATIONS_TABLE, RUNS } from './tables';
import { DatabaseTaskStore } from './DatabaseTaskStore';
import { DispatchStore } from './DispatchStore';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const MIGRATIONS = {
  directory: migrationsDir,
  tableName: MIGRATIONS_TABLE,
};
/** The migration that moved the next runs out of the task rows: older ones are tested before it. */
const NEXT_RUNS_MIGRATION = {
  ...MIGRATIONS,
  name: '20261129120000_next_runs.js',
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
    await knex('lab_scheduler_next_runs').delete();
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
    // Seeded in today's schema, then taken back to the one before 20261129060000.
    await knex.migrate.down(NEXT_RUNS_MIGRATION);
    await knex.migrate.down(migration);
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
    await knex('lab_scheduler_next_runs').delete();
    await knex.migrate.down(NEXT_RUNS_MIGRATION);
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
    await knex.migrate.up(NEXT_RUNS_MIGRATION);

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

  it('next runs (20261129120000): up moves the next run of each active task out of its row, and only theirs; down puts them back', async () => {
    await applyDatabaseMigrations(knex);
    await knex('lab_scheduler_runs').delete();
    await knex('lab_scheduler_tasks').delete();
    await knex('lab_scheduler_next_runs').delete();
    const once = { type: 'once' as const, at: '2026-11-29T09:00:00.000Z' };
    const [active, paused, deleted, completed] = await seedTasks(
      knex,
      [0, 1, 2, 3].map(() => ({ schedule: once, nextRunAt: null })),
    );
    await knex.migrate.down(NEXT_RUNS_MIGRATION);
    // The old schema: the next run in the task row. A paused, deleted or completed task's is ignored
    // (none should have one; the old claim skipped them).
    const old = [
      { id: active, state: 'active', next_run_at: 1_000_000, deleted_at: null },
      { id: paused, state: 'paused', next_run_at: 2_000_000, deleted_at: null },
      { id: deleted, state: 'active', next_run_at: 3_000_000, deleted_at: 5 },
      {
        id: completed,
        state: 'completed',
        next_run_at: null,
        deleted_at: null,
      },
    ];
    for (const { id, ...row } of old) {
      await knex('lab_scheduler_tasks').where({ id }).update(row);
    }

    await knex.migrate.up(NEXT_RUNS_MIGRATION);
    expect(
      (await knex('lab_scheduler_next_runs').select('*')).map(n => ({
        taskId: n.task_id,
        nextRunAt: Number(n.next_run_at),
      })),
    ).toEqual([{ taskId: active, nextRunAt: 1_000_000 }]);
    expect(
      await knex.schema.hasColumn('lab_scheduler_tasks', 'next_run_at'),
    ).toBe(false);
    expect(await new DatabaseTaskStore(knex).getTask(active)).toMatchObject({
      nextRunAt: new Date(1_000_000).toISOString(),
    });

    await knex.migrate.down(NEXT_RUNS_MIGRATION);
    const nextRunsAfterDown = Object.fromEntries(
      (await knex('lab_scheduler_tasks').select('id', 'next_run_at')).map(t => [
        t.id,
        t.next_run_at === null ? null : Number(t.next_run_at),
      ]),
    );
    expect(nextRunsAfterDown).toEqual({
      [active]: 1_000_000,
      [paused]: null,
      [deleted]: null,
      [completed]: null,
    });
    await applyDatabaseMigrations(knex);
  });

  if (databaseId.startsWith('POSTGRES')) {
    it('claims due tasks through the next runs index, also before the tables have statistics', async () => {
      await applyDatabaseMigrations(knex);
      const due = Date.now() - 1000;
      // Enough due tasks that sorting them would cost (a few thousand get a bitmap scan and a sort of
      // those few rows, which is the cheaper plan there).
      await seedDueTasks(knex, 20_000, due);
      await knex.raw(
        `delete from pg_statistic where starelid in ('lab_scheduler_tasks'::regclass, 'lab_scheduler_next_runs'::regclass)`,
      );
      // The claim's own statements, explained as it sent them.
      const statements: { sql: string; bindings: unknown[] }[] = [];
      const record = (q: { sql: string; bindings: unknown[] }) =>
        statements.push(q);
      knex.on('query', record);
      const claim = await new DispatchStore(knex).claimDueTasks({
        instanceId: 'i',
        nowMs: Date.now(),
        batchSize: 500,
        leaseMs: 30_000,
        graceMs: 60_000,
      });
      knex.off('query', record);
      const planOf = async (pattern: RegExp) => {
        const statement = statements.find(q => pattern.test(q.sql));
        const connection = await knex.client.acquireConnection();
        try {
          const { rows } = await connection.query(
            `explain ${statement?.sql}`,
            statement?.bindings,
          );
          return rows
            .map((r: Record<string, string>) => r['QUERY PLAN'])
            .join('\n');
        } finally {
          await knex.client.releaseConnection(connection);
        }
      };
      // Due tasks: one range scan of the next runs' index, stopping at the batch, no sort of every due row.
      const duePlan = await planOf(/lab_scheduler_next_runs/);
      expect(duePlan).toContain(
        'Index Scan using lab_scheduler_next_runs_due_idx',
      );
      expect(duePlan).not.toContain('Sort');
      // Their tasks by id, not from the list indexes: a join of the two did start from the state index
      // (every active task, per claim). Which of the primary key or a scan of the table reads 500 of 20,000
      // tasks faster is the planner's call.
      const tasksPlan = await planOf(/lab_scheduler_tasks"? /);
      expect(tasksPlan).toContain('lab_scheduler_tasks');
      expect(tasksPlan).not.toMatch(/list_idx/);
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

    it('finds the runs queued since before a bound through the queued runs index (20261129140000), not by reading every run', async () => {
      await applyDatabaseMigrations(knex);
      const now = Date.now();
      const [taskId] = await seedDueTasks(knex, 1, now);
      // Only these runs: a history of 50,000 finished runs and 10 queued ones, without statistics.
      await knex(RUNS).delete();
      await knex.raw(
        `insert into lab_scheduler_runs (id, task_id, scheduled_for, status, attempt, created_at,
           published_at, finished_at, claim_token)
         select 'history-' || g, ?, g, case when g % 5000 = 0 then 'queued' else 'succeeded' end, 1,
           g, g, case when g % 5000 = 0 then null else g end, 'token'
         from generate_series(1, 50000) g`,
        [taskId],
      );
      await knex.raw(
        `delete from pg_statistic where starelid = 'lab_scheduler_runs'::regclass`,
      );
      const stores = await createStores({
        knex,
        runStates: { staleRunningMs: 3_600_000 },
      });
      const statements: { sql: string; bindings: unknown[] }[] = [];
      const record = (q: { sql: string; bindings: unknown[] }) =>
        statements.push(q);
      knex.on('query', record);
      // Both sweeps of queued runs: SQS messages dropped at their retention, in-process runs left by a
      // dead process.
      expect(await stores.runStates.failExpiredQueuedRuns(now, 1000)).toBe(10);
      await knex(RUNS)
        .where('status', 'failed')
        .where('id', 'like', 'history-%')
        .update({
          status: 'queued',
          finished_at: null,
        });
      expect(
        await stores.dispatch.takeLostQueuedRuns({
          queuedBeforeMs: now,
          nowMs: now,
          batchSize: 100,
        }),
      ).toHaveLength(10);
      knex.off('query', record);
      const plans = [];
      for (const statement of statements.filter(q =>
        /^select .*coalesce\("?r?"?\.?"?published_at/i.test(
          q.sql.replace(/\s+/g, ' '),
        ),
      )) {
        const connection = await knex.client.acquireConnection();
        try {
          const { rows } = await connection.query(
            `explain ${statement.sql}`,
            statement.bindings,
          );
          plans.push(
            rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'),
          );
        } finally {
          await knex.client.releaseConnection(connection);
        }
      }
      expect(plans).toHaveLength(2);
      for (const plan of plans) {
        expect(plan).toContain('lab_scheduler_runs_queued_idx');
        expect(plan).not.toMatch(/Seq Scan on lab_scheduler_runs/);
      }
    });
  }
});
