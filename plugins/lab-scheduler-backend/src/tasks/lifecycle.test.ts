import { TestDatabaseId } from '@backstage/backend-test-utils';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import {
  activeTiming,
  NEVER_SORT_AT,
  sortKey,
  sortKeySql,
  stateAfterAdvance,
  stateAfterAdvanceSql,
} from './lifecycle';

const databases = createTestDatabases();

// The next-run values the rules see: none, the epoch, an ordinary instant, the last real one.
const nextRuns = [
  null,
  0,
  Date.parse('2026-11-29T09:00:00Z'),
  NEVER_SORT_AT - 1,
];

describe.each(databaseIds)(
  'lifecycle rules in SQL on %s',
  (databaseId: TestDatabaseId) => {
    it('answer what the JavaScript rules answer', async () => {
      const knex = await databases.init(databaseId);
      const fromSql = [];
      for (const nextRunAt of nextRuns) {
        const result = await knex.raw(
          `select ${sortKeySql('v.next_run_at')} as sort_at,
                  ${stateAfterAdvanceSql('v.next_run_at')} as state
           from (select cast(? as bigint) as next_run_at) v`,
          [nextRunAt],
        );
        // pg answers { rows } with bigints as strings; better-sqlite3 answers the rows.
        const [row] = Array.isArray(result) ? result : result.rows;
        fromSql.push({ sortAt: Number(row.sort_at), state: row.state });
      }
      expect(fromSql).toEqual(
        nextRuns.map(nextRunAt => ({
          sortAt: sortKey(nextRunAt),
          state: stateAfterAdvance(nextRunAt),
        })),
      );
    });
  },
);

describe('lifecycle rules', () => {
  const nowMs = Date.parse('2026-11-29T10:00:00Z');

  it('sort tasks that will not run again last', () => {
    expect(sortKey(null)).toBe(NEVER_SORT_AT);
    expect(sortKey(nowMs)).toBe(nowMs);
    expect(NEVER_SORT_AT).toBeGreaterThan(Date.parse('9999-12-31T23:59:59Z'));
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
