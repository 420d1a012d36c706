import { TestDatabaseId } from '@backstage/backend-test-utils';
import { InputError } from '@backstage/errors';
import { encodeCursor } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import {
  KeysetOrder,
  keysetPage,
  nextCursorOf,
  positionOfCursor,
  whereAfter,
} from './keyset';

jest.setTimeout(60_000);

const databases = createTestDatabases();

type Row = { k: string | number; id: string };

/** 30 rows over 6 key values: every key is shared by 5 rows, so only the id tells them apart. */
const ROWS: { k: number; id: string }[] = Array.from(
  { length: 30 },
  (_, i) => ({
    k: 1_800_000_000_000 + (i % 6) * 1000,
    id: `row-${String((i * 7) % 30).padStart(2, '0')}`,
  }),
);

const byKeyThenId = (a: Row, b: Row) =>
  Number(a.k) - Number(b.k) || a.id.localeCompare(b.id);

describe.each(databaseIds)(
  'keyset paging on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await knex.schema.createTable('keyset_probe', table => {
        table.bigInteger('k').notNullable();
        table.string('id', 36).notNullable().primary();
      });
      await knex('keyset_probe').insert(ROWS);
      // A second table whose key alone orders its rows (as a task's runs by scheduled time).
      await knex.schema.createTable('keyset_unique_probe', table => {
        table.bigInteger('k').notNullable().primary();
        table.string('id', 36).notNullable();
      });
      await knex('keyset_unique_probe').insert(
        ROWS.map((row, i) => ({ k: 1000 + i * 3, id: row.id })),
      );
    });

    /** Every page of `table` in `order`, `limit` rows at a time, through the API's cursor. */
    async function allPages(
      table: string,
      order: KeysetOrder<Row>,
      limit: number,
    ): Promise<{ ids: string[]; sizes: number[] }> {
      const ids: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const page = await keysetPage<Row>(
          knex(table).select('k', 'id'),
          order,
          {
            limit,
            after: positionOfCursor(cursor ?? undefined),
          },
        );
        ids.push(...page.rows.map(r => r.id));
        sizes.push(page.rows.length);
        cursor = nextCursorOf(page);
      } while (cursor && sizes.length < 100);
      return { ids, sizes };
    }

    const positionOf = (row: Row) => ({ k: Number(row.k), id: row.id });

    it.each([
      ['asc', 4],
      ['desc', 4],
      ['asc', 5],
      ['desc', 30],
    ] as const)(
      'pages rows sharing a key (%s, %i a page): each once, in key then id order',
      async (direction, limit) => {
        const { ids, sizes } = await allPages(
          'keyset_probe',
          { key: 'k', id: 'id', direction, positionOf },
          limit,
        );
        const expected = [...ROWS].sort(byKeyThenId).map(r => r.id);
        expect(ids).toEqual(
          direction === 'asc' ? expected : expected.reverse(),
        );
        // Full pages until the last; no empty page at the end when the rows divide evenly.
        expect(sizes.slice(0, -1).every(n => n === limit)).toBe(true);
        expect(sizes[sizes.length - 1]).toBeGreaterThan(0);
      },
    );

    it.each(['asc', 'desc'] as const)(
      'pages by the key alone when it is unique (%s)',
      async direction => {
        const { ids } = await allPages(
          'keyset_unique_probe',
          { key: 'k', direction, positionOf },
          7,
        );
        const expected = ROWS.map(r => r.id);
        expect(ids).toEqual(
          direction === 'asc' ? expected : expected.reverse(),
        );
      },
    );

    it('writes the position as a row comparison (the form the list indexes serve), not an OR', () => {
      const query = knex('keyset_probe').select('id');
      whereAfter(
        query,
        { key: 'k', id: 'id', direction: 'desc' },
        { k: 1, id: 'a' },
      );
      const { sql, bindings } = query.toSQL();
      expect(sql).toMatch(/where \(["`]k["`], ["`]id["`]\) < \(\?, \?\)$/);
      expect(sql).not.toMatch(/ or /i);
      expect(bindings).toEqual([1, 'a']);
    });

    it('compares qualified columns of a join alias as one row', async () => {
      const page = await keysetPage<Row>(
        knex('keyset_probe as p').select('p.k', 'p.id'),
        { key: 'p.k', id: 'p.id', direction: 'asc', positionOf },
        { limit: 2, after: positionOf([...ROWS].sort(byKeyThenId)[3]) },
      );
      expect(page.rows.map(r => r.id)).toEqual(
        [...ROWS]
          .sort(byKeyThenId)
          .slice(4, 6)
          .map(r => r.id),
      );
    });
  },
);

describe('cursors', () => {
  it('round-trip a position', () => {
    const next = {
      k: 1_800_000_000_000,
      id: 'b6a1c1f4-0000-7000-8000-000000000000',
    };
    const cursor = nextCursorOf({ next });
    expect(cursor).toBe(encodeCursor(next));
    expect(positionOfCursor(cursor!)).toEqual(next);
    expect(nextCursorOf({})).toBeNull();
    expect(positionOfCursor(undefined)).toBeUndefined();
  });

  it.each([
    ['not base64url', '%00'],
    ['not JSON', 'bm90IGpzb24'],
    ['a NUL in the id', encodeCursor({ k: 1, id: 'a\u0000' })],
    [
      'an unsafe integer',
      Buffer.from('[9007199254740993,"a"]').toString('base64url'),
    ],
  ])('refuse %s with a 400 naming cursor', (_what, cursor) => {
    let error: any;
    try {
      positionOfCursor(cursor);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect(error.details).toEqual([
      { path: 'cursor', message: 'is not a valid cursor' },
    ]);
  });
});
