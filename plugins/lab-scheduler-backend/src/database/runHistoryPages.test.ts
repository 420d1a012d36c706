import { TestDatabaseId } from '@backstage/backend-test-utils';
import { DEFAULT_TASK_POLICIES } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { applyDatabaseMigrations } from './createStores';
import { DatabaseTaskStore } from './DatabaseTaskStore';
import { timeOrderedUuid } from './ids';
import { TaskFields } from './TaskStore';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const BASE = Date.parse('2027-01-01T00:00:00Z');
const ADA = 'user:default/ada';

const fields = (name: string): TaskFields => ({
  name,
  description: '',
  instrumentRef: 'resource:default/plate-reader-1',
  owner: ADA,
  measurement: { type: 'absorbance-spectrum', parameters: {} },
  schedule: { type: 'once', at: new Date(BASE).toISOString() },
  policies: DEFAULT_TASK_POLICIES,
  state: 'active',
  nextRunAt: BASE,
});

describe.each(databaseIds)(
  'run history and last runs on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let store: DatabaseTaskStore;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
      store = new DatabaseTaskStore(knex);
    });

    /** Runs of `taskId` at these minutes after BASE, created in the given order. */
    async function addRuns(taskId: string, minutes: number[]) {
      for (const [i, minute] of minutes.entries()) {
        await knex('lab_scheduler_runs').insert({
          id: timeOrderedUuid(BASE + i),
          task_id: taskId,
          scheduled_for: BASE + minute * 60_000,
          status: 'succeeded',
          created_at: BASE + i,
          finished_at: BASE + i,
        });
      }
    }

    it('pages a run history newest first, without gaps or repeats', async () => {
      const task = await store.createTask(fields('History'), ADA, BASE);
      const minutes = Array.from({ length: 25 }, (_, i) => (i * 7) % 25);
      await addRuns(task.id, minutes);
      const seen: string[] = [];
      let after;
      do {
        const page = await store.listRuns(task.id, { limit: 7, after });
        seen.push(...page.items.map(r => r.scheduledFor));
        after = page.next;
      } while (after && seen.length < 100);
      const expected = [...minutes]
        .sort((a, b) => b - a)
        .map(m => new Date(BASE + m * 60_000).toISOString());
      expect(seen).toEqual(expected);
    });

    it("attaches each task's latest run by scheduled time, and none to a task without runs", async () => {
      const early = await store.createTask(fields('Early'), ADA, BASE);
      const late = await store.createTask(fields('Late'), ADA, BASE);
      const none = await store.createTask(fields('None'), ADA, BASE);
      // Created last but scheduled earliest: "latest" is by scheduled time, not by creation.
      await addRuns(early.id, [5, 9, 1]);
      await addRuns(late.id, [30, 20]);
      const page = await store.listTasks({ limit: 200 });
      const lastRun = (id: string) =>
        page.items.find(t => t.id === id)?.lastRun?.scheduledFor ?? null;
      expect(lastRun(early.id)).toBe(new Date(BASE + 9 * 60_000).toISOString());
      expect(lastRun(late.id)).toBe(new Date(BASE + 30 * 60_000).toISOString());
      expect(lastRun(none.id)).toBeNull();
      expect((await store.getTask(early.id))?.lastRun?.scheduledFor).toBe(
        new Date(BASE + 9 * 60_000).toISOString(),
      );
    });
  },
);
