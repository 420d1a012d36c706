import { TestDatabaseId } from '@backstage/backend-test-utils';
import {
  FINISHED_RUN_OUTCOME_KINDS,
  Run,
  runOutcome,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { seedTasks } from '../__testUtils__/seed';
import { applyDatabaseMigrations } from './createStores';
import { RecentResultStore } from './RecentResultStore';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const BASE = Date.parse('2027-01-01T00:00:00Z');

const once = {
  schedule: { type: 'once' as const, at: new Date(BASE).toISOString() },
  nextRunAt: null,
  state: 'completed' as const,
};

const resultWithQc = (status: string | undefined) =>
  JSON.stringify({
    measurementType: 'mass-reading',
    summary: { mean: 1 },
    ...(status === undefined
      ? {}
      : {
          qc: {
            status,
            checks: [
              { name: 'sd', value: 2, limit: 1, pass: status !== 'fail' },
            ],
          },
        }),
  });

function runRow(
  taskId: string,
  i: number,
  status: Run['status'],
  result: string | null = null,
  finished = true,
) {
  return {
    id: randomUUID(),
    task_id: taskId,
    instrument_ref: 'resource:default/balance-1',
    scheduled_for: BASE + i * 1000,
    status,
    attempt: 1,
    created_at: BASE + i * 1000,
    finished_at: finished ? BASE + i * 1000 + 500 : null,
    result,
    error: status === 'failed' ? 'InstrumentFaultError: lid open' : null,
  };
}

describe.each(databaseIds)(
  'RecentResultStore on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let store: RecentResultStore;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
      store = new RecentResultStore(knex);
    });

    beforeEach(async () => {
      await knex('lab_scheduler_runs').delete();
    });

    it('filters by outcome exactly as runOutcome classifies, for every status and QC verdict', async () => {
      const [taskId] = await seedTasks(knex, [once]);
      const rows = [
        runRow(taskId, 1, 'succeeded', resultWithQc('pass')),
        runRow(taskId, 2, 'succeeded', resultWithQc('fail')),
        runRow(taskId, 3, 'succeeded', resultWithQc('not_checked')),
        runRow(taskId, 4, 'succeeded', resultWithQc(undefined)),
        runRow(taskId, 5, 'succeeded', null),
        runRow(taskId, 6, 'failed'),
        runRow(taskId, 7, 'dead_lettered'),
        runRow(taskId, 8, 'skipped'),
        runRow(taskId, 9, 'cancelled'),
      ];
      await knex('lab_scheduler_runs').insert(rows);
      for (const kind of FINISHED_RUN_OUTCOME_KINDS) {
        const page = await store.listRecentResults({
          outcomes: [kind],
          limit: 50,
        });
        const expected = rows
          .filter(
            row =>
              runOutcome({
                status: row.status,
                result: row.result ? JSON.parse(row.result) : null,
                error: row.error,
              }).kind === kind,
          )
          .map(row => row.id)
          .reverse();
        expect({ kind, ids: page.items.map(item => item.run.id) }).toEqual({
          kind,
          ids: expected,
        });
        expect(expected.length).toBeGreaterThan(0);
      }
      const failures = await store.listRecentResults({
        outcomes: ['qc_fail', 'failed'],
        limit: 50,
      });
      expect(failures.items.map(i => i.run.outcome)).toEqual([
        { kind: 'failed', cause: 'instrument' },
        { kind: 'qc_fail', failedChecks: ['sd'] },
      ]);
    });

    it('pages newest first without gaps or repeats, finished runs of readable, undeleted tasks only', async () => {
      const [mine, theirs, deleted] = await seedTasks(knex, [once, once, once]);
      await knex('lab_scheduler_tasks')
        .where('id', theirs)
        .update({ owner: 'group:default/assay-dev' });
      await knex('lab_scheduler_tasks')
        .where('id', deleted)
        .update({ deleted_at: BASE });
      const finishedMine = Array.from({ length: 25 }, (_, i) =>
        runRow(mine, i, 'succeeded', resultWithQc('pass')),
      );
      await knex('lab_scheduler_runs').insert([
        ...finishedMine,
        runRow(mine, 100, 'running', null, false),
        runRow(mine, 101, 'pending', null, false),
        runRow(theirs, 50, 'failed'),
        runRow(deleted, 60, 'failed'),
      ]);
      const permissionFilter = {
        property: 'owner' as const,
        values: ['user:default/ada', 'group:default/lab-ops'],
      };
      const seen: string[] = [];
      let after;
      let pages = 0;
      do {
        const page = await store.listRecentResults({
          permissionFilter,
          limit: 10,
          after,
        });
        seen.push(...page.items.map(item => item.run.id));
        for (const item of page.items) {
          expect(item.task).toEqual({
            id: mine,
            name: expect.any(String),
            instrumentRef: expect.any(String),
            owner: 'group:default/lab-ops',
            measurementType: 'mass-reading',
          });
        }
        after = page.next;
        pages++;
      } while (after);
      expect(pages).toBe(3);
      expect(seen).toEqual(finishedMine.map(row => row.id).reverse());

      const everyone = await store.listRecentResults({ limit: 50 });
      expect(everyone.items.map(i => i.run.taskId)).toEqual([
        theirs,
        ...finishedMine.map(() => mine),
      ]);
    });
  },
);
