import { TestDatabaseId } from '@backstage/backend-test-utils';
import { DEFAULT_TASK_POLICIES } from '@lab-scheduler/plugin-lab-scheduler-common';
import knexFactory, { Knex } from 'knex';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { applyDatabaseMigrations } from './createStores';
import { DatabaseTaskStore } from './DatabaseTaskStore';
import { ListTasksOptions, TaskFields } from './TaskStore';
import { textSearchIndexStatus } from './textSearchIndex';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const BASE = Date.parse('2027-01-01T00:00:00Z');
const ADA = 'user:default/ada';
const LAB_OPS = 'group:default/lab-ops';
const BALANCE = 'resource:default/balance-1';
const READER = 'resource:default/plate-reader-1';

function fields(over: Partial<TaskFields>): TaskFields {
  return {
    name: 'Task',
    description: '',
    instrumentRef: READER,
    owner: ADA,
    measurement: { type: 'absorbance-spectrum', parameters: {} },
    schedule: { type: 'once', at: new Date(BASE).toISOString() },
    policies: DEFAULT_TASK_POLICIES,
    state: 'active',
    nextRunAt: BASE,
    ...over,
  };
}

/** Every page of a listing, walked with the cursor: names in list order. */
async function listAll(
  store: DatabaseTaskStore,
  options: Omit<ListTasksOptions, 'limit' | 'after'>,
  limit = 2,
): Promise<string[]> {
  const names: string[] = [];
  let after;
  do {
    const page = await store.listTasks({ ...options, limit, after });
    names.push(...page.items.map(t => t.name));
    after = page.next;
    // A cursor that does not move on would loop for ever.
    if (names.length > 1000) throw new Error('the cursor does not advance');
  } while (after);
  return names;
}

describe.each(databaseIds)(
  'task list filters on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let store: DatabaseTaskStore;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
      store = new DatabaseTaskStore(knex);
      const create = (over: Partial<TaskFields>) =>
        store.createTask(fields(over), ADA, BASE);
      // Equal sort keys on purpose: pages must break ties by id without a gap.
      await create({ name: 'Buffer pH check', nextRunAt: BASE });
      await create({
        name: 'Weighing',
        description: 'Daily BALANCE drift check',
        instrumentRef: BALANCE,
        nextRunAt: BASE,
      });
      await create({
        name: 'Paused drift study',
        state: 'paused',
        owner: LAB_OPS,
        nextRunAt: null,
      });
      await create({
        name: '100% yield_test',
        owner: LAB_OPS,
        instrumentRef: BALANCE,
        nextRunAt: BASE + 1,
      });
      await create({ name: 'Spectrum', nextRunAt: BASE + 2 });
      const gone = await create({ name: 'Deleted drift', nextRunAt: BASE });
      await store.deleteTask({ id: gone.id, actor: ADA, nowMs: BASE });
    });

    it('matches text in the name or the description, ignoring case, never across them', async () => {
      expect((await listAll(store, { text: 'DRIFT' })).sort()).toEqual([
        'Paused drift study',
        'Weighing',
      ]);
      expect(await listAll(store, { text: 'ph ch' })).toEqual([
        'Buffer pH check',
      ]);
      // "Weighing" + "Daily": the end of the name and the start of the description are not one text.
      expect(await listAll(store, { text: 'ingdaily' })).toEqual([]);
      expect(await listAll(store, { text: 'ing daily' })).toEqual([]);
      expect(await listAll(store, { text: 'no such text' })).toEqual([]);
    });

    it('takes % and _ in the text literally', async () => {
      expect(await listAll(store, { text: '0% y' })).toEqual([
        '100% yield_test',
      ]);
      expect(await listAll(store, { text: 'd_t' })).toEqual([
        '100% yield_test',
      ]);
      expect(await listAll(store, { text: '%' })).toEqual(['100% yield_test']);
    });

    it('finds a task by its new name and description after an edit, and not by the old ones', async () => {
      const task = await store.createTask(
        fields({ name: 'Colour sweep', description: 'visible range' }),
        ADA,
        BASE,
      );
      await store.updateTask({
        id: task.id,
        fields: { name: 'Turbidity sweep', description: 'near infrared' },
        action: 'update',
        actor: ADA,
        nowMs: BASE,
      });
      expect(await listAll(store, { text: 'turbidity' })).toEqual([
        'Turbidity sweep',
      ]);
      expect(await listAll(store, { text: 'infrared' })).toEqual([
        'Turbidity sweep',
      ]);
      expect(await listAll(store, { text: 'colour' })).toEqual([]);
      expect(await listAll(store, { text: 'visible' })).toEqual([]);
      // A change of state only (what the dispatcher writes) leaves the task findable.
      await store.updateTask({
        id: task.id,
        fields: { state: 'paused', nextRunAt: null },
        action: 'pause',
        actor: ADA,
        nowMs: BASE,
      });
      expect(await listAll(store, { text: 'turbidity' })).toEqual([
        'Turbidity sweep',
      ]);
      await store.deleteTask({ id: task.id, actor: ADA, nowMs: BASE });
      expect(await listAll(store, { text: 'turbidity' })).toEqual([]);
    });

    it('combines state, instrument, owner, text and permission filters, in list order across pages', async () => {
      expect(await listAll(store, { state: 'paused' })).toEqual([
        'Paused drift study',
      ]);
      expect(await listAll(store, { instrument: BALANCE })).toEqual([
        'Weighing',
        '100% yield_test',
      ]);
      expect(await listAll(store, { owner: LAB_OPS })).toEqual([
        '100% yield_test',
        'Paused drift study',
      ]);
      expect(
        await listAll(store, { instrument: BALANCE, owner: LAB_OPS }),
      ).toEqual(['100% yield_test']);
      expect(
        await listAll(store, {
          text: 'drift',
          permissionFilter: { property: 'owner', values: [LAB_OPS] },
        }),
      ).toEqual(['Paused drift study']);
      expect(
        await listAll(store, {
          state: 'active',
          permissionFilter: {
            anyOf: [
              { property: 'owner', values: [LAB_OPS] },
              { property: 'instrument_ref', values: [BALANCE] },
            ],
          },
        }),
      ).toEqual(['Weighing', '100% yield_test']);
      // The whole list, one task per page: ties on the sort key do not lose or repeat a task.
      const all = await listAll(store, {}, 1);
      expect(all).toEqual(await listAll(store, {}, 100));
      expect(all).toHaveLength(5);
      expect(all.slice(3)).toEqual(['Spectrum', 'Paused drift study']);
    });

    it('reports how the text filter runs here', async () => {
      expect(await textSearchIndexStatus(knex)).toBe(
        databaseId.startsWith('POSTGRES') ? 'trigram' : 'like',
      );
    });
  },
);

const postgresIds = databaseIds.filter(id => id.startsWith('POSTGRES'));

describe.each(postgresIds)(
  'task text filter without pg_trgm on %s',
  (databaseId: TestDatabaseId) => {
    let admin: Knex;
    let restricted: Knex;
    const role = `lab_no_ext_${process.pid}`;

    beforeAll(async () => {
      admin = await databases.init(databaseId);
      const connection = admin.client.config
        .connection as Knex.PgConnectionConfig;
      await admin.raw('drop extension if exists pg_trgm');
      await admin.raw(`drop role if exists ${role}`);
      // May create tables, not extensions (no CREATE on the database): like a locked-down managed role.
      await admin.raw(`create role ${role} login`);
      await admin.raw(`grant create, usage on schema public to ${role}`);
      restricted = knexFactory({
        client: 'pg',
        connection: { ...connection, user: role, password: undefined },
      });
    });

    afterAll(async () => {
      await restricted?.destroy();
      await admin.raw(`drop owned by ${role}`);
      await admin.raw(`drop role if exists ${role}`);
    });

    it('migrates with a warning and filters by scanning', async () => {
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
      try {
        await applyDatabaseMigrations(restricted);
        expect(warn).toHaveBeenCalledWith(
          expect.stringMatching(/pg_trgm is not available.*permission denied/),
        );
      } finally {
        warn.mockRestore();
      }
      expect(await textSearchIndexStatus(restricted)).toBe('scan');
      const store = new DatabaseTaskStore(restricted);
      await store.createTask(
        fields({ name: 'Osmolality', description: 'Freezing point' }),
        ADA,
        BASE,
      );
      await store.createTask(fields({ name: 'Viscosity' }), ADA, BASE);
      expect(await listAll(store, { text: 'freezing' })).toEqual([
        'Osmolality',
      ]);
    });
  },
);
