import { TestDatabaseId } from '@backstage/backend-test-utils';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { seedTasks } from '../__testUtils__/seed';
import { applyDatabaseMigrations } from '../database/createStores';
import { RUNS } from '../database/tables';
import {
  activeTiming,
  completedSortKey,
  NEVER_SORT_AT,
  runUnderWaySql,
  sortKey,
  sortKeyAfterAdvance,
  stateAfterAdvance,
  stateAfterAdvanceSql,
} from './lifecycle';

jest.setTimeout(60_000);

const databases = createTestDatabases();

const nowMs = Date.parse('2026-11-29T10:00:00Z');
const occurrenceAt = Date.parse('2026-11-29T09:30:00Z');
// The next-run values the rules see: none, the epoch, an ordinary instant, the last real one.
const nextRuns = [
  null,
  0,
  Date.parse('2026-11-29T09:00:00Z'),
  NEVER_SORT_AT - 1,
];

/** pg answers { rows } with bigints as strings; better-sqlite3 answers the rows. */
function rowsOf(result: any): any[] {
  return Array.isArray(result) ? result : result.rows;
}

describe.each(databaseIds)(
  'lifecycle rules in SQL on %s',
  (databaseId: TestDatabaseId) => {
    it('answer what the JavaScript rule answers', async () => {
      const knex = await databases.init(databaseId);
      const cases = nextRuns.flatMap(nextRunAt =>
        [true, false].map(runUnderWay => ({ nextRunAt, runUnderWay })),
      );
      const fromSql = [];
      for (const { nextRunAt, runUnderWay } of cases) {
        // The boolean as a comparison: both databases answer it, neither binds a JS boolean alike.
        const underWay = runUnderWay ? '(1 = 1)' : '(1 = 0)';
        const result = await knex.raw(
          `select ${stateAfterAdvanceSql('v.next_run_at', underWay)} as state
           from (select cast(? as bigint) as next_run_at) v`,
          [nextRunAt],
        );
        const [row] = rowsOf(result);
        fromSql.push(row.state);
      }
      expect(fromSql).toEqual(
        cases.map(({ nextRunAt, runUnderWay }) =>
          stateAfterAdvance(nextRunAt, runUnderWay),
        ),
      );
    });

    it('count a pending, queued or running run as under way, no finished one', async () => {
      const knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
      const statuses = [
        'pending',
        'queued',
        'running',
        'succeeded',
        'failed',
        'dead_lettered',
        'skipped',
        'cancelled',
      ];
      const taskIds = await seedTasks(
        knex,
        statuses.map(() => ({
          schedule: { type: 'once' as const, at: '2026-11-29T09:00:00Z' },
          nextRunAt: null,
        })),
      );
      await knex(RUNS).insert(
        statuses.map((status, i) => ({
          id: `run-${i}`,
          task_id: taskIds[i],
          scheduled_for: 1,
          status,
          attempt: 0,
          created_at: 1,
        })),
      );
      const underWay = [];
      for (const taskId of taskIds) {
        const [row] = rowsOf(
          await knex.raw(
            `select case when ${runUnderWaySql(
              't.id',
            )} then 1 else 0 end as under_way from (select ? as id) t`,
            [taskId],
          ),
        );
        underWay.push(Number(row.under_way) === 1);
      }
      expect(underWay).toEqual(statuses.map((_, i) => i < 3));
    });
  },
);

describe('lifecycle rules', () => {
  it('sort upcoming tasks by next run, then completed ones latest first, then paused ones', () => {
    const tenYearsAhead = nowMs + 10 * 366 * 86_400_000;
    expect(sortKey(nowMs)).toBe(nowMs);
    expect(sortKey(null)).toBe(NEVER_SORT_AT);
    expect(completedSortKey(nowMs)).toBeGreaterThan(tenYearsAhead);
    expect(completedSortKey(nowMs)).toBeLessThan(
      completedSortKey(nowMs - 60_000),
    );
    expect(completedSortKey(nowMs)).toBeLessThan(sortKey(null));
    expect(NEVER_SORT_AT).toBeGreaterThan(Date.parse('9999-12-31T23:59:59Z'));
  });

  it('keep a task whose last occurrence was claimed active, at that occurrence, while its run is under way', () => {
    const claimed = { nextRunAt: null, occurrenceAt, nowMs };
    expect(stateAfterAdvance(null, true)).toBe('active');
    expect(sortKeyAfterAdvance({ ...claimed, runUnderWay: true })).toBe(
      occurrenceAt,
    );
    expect(stateAfterAdvance(null, false)).toBe('completed');
    expect(sortKeyAfterAdvance({ ...claimed, runUnderWay: false })).toBe(
      completedSortKey(nowMs),
    );
    // A task with a next run is active and sorts by it, whatever runs.
    expect(stateAfterAdvance(nowMs + 1, false)).toBe('active');
    expect(
      sortKeyAfterAdvance({
        ...claimed,
        nextRunAt: nowMs + 1,
        runUnderWay: false,
      }),
    ).toBe(nowMs + 1);
  });

  it('complete a task whose schedule has no occurrence left', () => {
    const ended = {
      type: 'cron' as const,
      expression: '0 9 * * *',
      timezone: 'Europe/Berlin',
      endAt: '2026-11-28T00:00:00.000Z',
    };
    expect(activeTiming(ended, nowMs)).toEqual({
      state: 'completed',
      nextRunAt: null,
    });
    const { endAt: _endAt, ...open } = ended;
    expect(activeTiming(open, nowMs)).toEqual({
      state: 'active',
      nextRunAt: Date.parse('2026-11-30T08:00:00Z'),
    });
  });

  it('keep a one-time task on its instant, even when that has passed', () => {
    const at = '2026-11-29T08:00:00.000Z';
    expect(activeTiming({ type: 'once', at }, nowMs)).toEqual({
      state: 'active',
      nextRunAt: Date.parse(at),
    });
  });
});
