import { TestDatabaseId } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { seedDueTasks, seedTasks } from '../__testUtils__/seed';
import { applyDatabaseMigrations, migrationsDir } from './createStores';
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
