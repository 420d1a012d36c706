import { TestDatabaseId } from '@backstage/backend-test-utils';
import { DEFAULT_TASK_POLICIES } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import {
  createTestDatabases,
  databaseIds,
  isCI,
  postgresAvailable,
} from '../__testUtils__/databases';
import { applyDatabaseMigrations } from './createStores';
import { DatabaseTaskStore } from './DatabaseTaskStore';
import { TaskFields } from './TaskStore';

jest.setTimeout(120_000);

const databases = createTestDatabases();

const BASE = Date.parse('2027-01-01T00:00:00Z');

function fields(i: number, nextRunAt: number | null): TaskFields {
  return {
    name: `Task ${i}`,
    description: '',
    instrumentRef: 'resource:default/plate-reader-1',
    owner: i % 2 ? 'group:default/lab-ops' : 'user:default/ada',
    measurement: { type: 'absorbance-spectrum', parameters: {} },
    schedule: { type: 'once', at: new Date(nextRunAt ?? BASE).toISOString() },
    policies: DEFAULT_TASK_POLICIES,
    state: nextRunAt === null ? 'paused' : 'active',
    nextRunAt,
  };
}

it('runs the PostgreSQL cases whenever CI is set', () => {
  // Guard: under CI a missing PostgreSQL must fail the run, never shrink it to SQLite silently.
  const coverage = {
    ci: isCI,
    postgres: postgresAvailable && databaseIds.includes('POSTGRES_15'),
  };
  expect(coverage).not.toEqual({ ci: true, postgres: false });
  expect(databaseIds).toContain('SQLITE_3');
});

describe.each(databaseIds)(
  'DatabaseTaskStore on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let store: DatabaseTaskStore;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
      store = new DatabaseTaskStore(knex);
    });

    it('applies its migrations idempotently', async () => {
      await applyDatabaseMigrations(knex);
      expect(await knex.schema.hasTable('lab_scheduler_tasks')).toBe(true);
      expect(await knex.schema.hasTable('lab_scheduler_runs')).toBe(true);
      expect(await knex.schema.hasTable('lab_scheduler_audit')).toBe(true);
    });

    it('keeps a next run row exactly while the task is active with an occurrence left: created, paused, resumed, re-timed, deleted', async () => {
      const nextRunRow = async (taskId: string) => {
        const row = await knex('lab_scheduler_next_runs')
          .where('task_id', taskId)
          .first();
        return row ? Number(row.next_run_at) : null;
      };
      const change = { actor: 'user:default/ada', nowMs: BASE };
      const active = await store.createTask(
        fields(1, BASE + 60_000),
        'user:default/ada',
        BASE,
      );
      const paused = await store.createTask(
        fields(2, null),
        'user:default/ada',
        BASE,
      );
      expect(await nextRunRow(active.id)).toBe(BASE + 60_000);
      expect(await nextRunRow(paused.id)).toBeNull();

      await store.updateTask({
        ...change,
        id: active.id,
        action: 'pause',
        fields: { state: 'paused', nextRunAt: null },
      });
      expect(await nextRunRow(active.id)).toBeNull();
      await store.updateTask({
        ...change,
        id: active.id,
        action: 'resume',
        fields: { state: 'active', nextRunAt: BASE + 120_000 },
      });
      expect(await nextRunRow(active.id)).toBe(BASE + 120_000);
      // An edit that leaves the timing alone leaves the next run alone.
      const renamed = await store.updateTask({
        ...change,
        id: active.id,
        action: 'update',
        fields: { name: 'Renamed' },
      });
      expect(renamed.nextRunAt).toBe(new Date(BASE + 120_000).toISOString());
      expect(await nextRunRow(active.id)).toBe(BASE + 120_000);

      await store.deleteTask({ ...change, id: active.id });
      expect(await nextRunRow(active.id)).toBeNull();
    });

    it('keeps one run row per task and occurrence', async () => {
      const task = await store.createTask(
        fields(0, BASE),
        'user:default/ada',
        Date.now(),
      );
      const row = {
        task_id: task.id,
        scheduled_for: BASE,
        status: 'pending',
        attempt: 0,
        created_at: Date.now(),
      };
      await knex('lab_scheduler_runs').insert({
        ...row,
        id: '11111111-1111-4111-8111-111111111111',
      });
      await expect(
        knex('lab_scheduler_runs').insert({
          ...row,
          id: '22222222-2222-4222-8222-222222222222',
        }),
      ).rejects.toThrow();
      const latest = await store.getTask(task.id);
      expect(latest?.lastRun).toMatchObject({
        id: '11111111-1111-4111-8111-111111111111',
        scheduledFor: new Date(BASE).toISOString(),
        status: 'pending',
        claimedAt: null,
      });
    });

    it('walks 1,000 tasks in pages with no duplicate and no gap while tasks are inserted', async () => {
      await knex('lab_scheduler_runs').delete();
      await knex('lab_scheduler_tasks').delete();
      const originals = new Set<string>();
      // Many equal nextRunAt values (ties broken by id) and some tasks with none (listed last).
      for (let i = 0; i < 1000; i++) {
        const next = i % 10 === 0 ? null : BASE + Math.floor(i / 7) * 60_000;
        const task = await store.createTask(
          fields(i, next),
          'user:default/ada',
          Date.now(),
        );
        originals.add(task.id);
      }

      const seen: string[] = [];
      let after;
      let pages = 0;
      let inserted = 0;
      do {
        const page = await store.listTasks({ limit: 37, after });
        seen.push(...page.items.map(t => t.id));
        after = page.next;
        pages++;
        // Concurrent writers: new tasks before, inside and after the current position.
        for (const offset of [-3_600_000, 0, 30_000, 86_400_000]) {
          const at = BASE + (pages % 20) * 10 * 60_000 + offset;
          await store.createTask(
            fields(5000 + inserted++, at),
            'user:default/ada',
            Date.now(),
          );
        }
      } while (after);

      expect(new Set(seen).size).toBe(seen.length);
      for (const id of originals) expect(seen).toContain(id);
      expect(pages).toBeGreaterThanOrEqual(Math.ceil(1000 / 37));
      // Order is by nextRunAt, then id; tasks that will not run again come last.
      const tasks = await store.getTasks(seen.slice(0, 200));
      const byId = new Map(tasks.map(t => [t.id, t]));
      const keys = seen
        .slice(0, 200)
        .map(id => byId.get(id)!.nextRunAt ?? '9999');
      expect([...keys].sort()).toEqual(keys);
    });
  },
);
