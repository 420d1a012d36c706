import {
  decodeCursor,
  encodeCursor,
  KeysetPosition,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { RequestValidationError } from '../service/errors';

/*
 * Keyset paging, for every paged list (tasks, a task's runs and audit trail, recent results): a page is
 * the rows after the previous page's last row in a fixed order, read with an index range scan that stops
 * at the page size, however deep the page. The API's cursor is that last row's position, base64url JSON
 * (encodeCursor / decodeCursor in lab-scheduler-common).
 */

/** At most `limit` rows after `after` (from the start when absent). */
export interface PageOptions {
  limit: number;
  after?: KeysetPosition;
}

export interface PageResult<T> {
  items: T[];
  /** The last item's position when another page follows. */
  next?: KeysetPosition;
}

/** Columns of a keyset order: by `key`, then by `id` when the key alone does not identify a row. */
export interface KeysetColumns {
  /** Holds the position's `k` (epoch ms or a sequence number). */
  key: string;
  /** Holds the position's `id`; absent when `key` is unique among the rows paged (`k` alone decides). */
  id?: string;
  direction: 'asc' | 'desc';
}

export interface KeysetOrder<Row> extends KeysetColumns {
  /** A row's position (BIGINT keys arrive as strings from pg and numbers from SQLite). */
  positionOf(row: Row): KeysetPosition;
}

/** Restricts `query` to the rows after `position` in the order of `columns`. */
export function whereAfter(
  query: Knex.QueryBuilder,
  columns: KeysetColumns,
  position: KeysetPosition,
): void {
  const op = columns.direction === 'asc' ? '>' : '<';
  if (columns.id === undefined) {
    query.where(columns.key, op, position.k);
    return;
  }
  // A row comparison, not `key > k or (key = k and id > id)`: PostgreSQL makes it one range condition
  // of an index on (…, key, id) (the task list indexes of migration 20261129020000, the recent results
  // index), where the OR form is a filter on every row the scan reads (docs/benchmark.md).
  query.whereRaw(`(??, ??) ${op} (?, ?)`, [
    columns.key,
    columns.id,
    position.k,
    position.id,
  ]);
}

/** Orders `query` by the keyset columns. */
export function orderByKeyset(
  query: Knex.QueryBuilder,
  columns: KeysetColumns,
): void {
  query.orderBy([
    { column: columns.key, order: columns.direction },
    ...(columns.id === undefined
      ? []
      : [{ column: columns.id, order: columns.direction }]),
  ]);
}

/** One page of `query` in `order`; one row more than the page is read to know whether another follows. */
export async function keysetPage<Row>(
  query: Knex.QueryBuilder,
  order: KeysetOrder<Row>,
  page: PageOptions,
): Promise<{ rows: Row[]; next?: KeysetPosition }> {
  if (page.after) whereAfter(query, order, page.after);
  orderByKeyset(query, order);
  const rows: Row[] = await query.limit(page.limit + 1);
  const hasMore = rows.length > page.limit;
  const pageRows = hasMore ? rows.slice(0, page.limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return {
    rows: pageRows,
    next: hasMore && last ? order.positionOf(last) : undefined,
  };
}

/** The position a request's `cursor` names; a 400 naming `cursor` when it is not a cursor of this API. */
export function positionOfCursor(
  cursor: string | undefined,
): KeysetPosition | undefined {
  if (cursor === undefined) return undefined;
  const position = decodeCursor(cursor);
  if (!position) {
    throw new RequestValidationError([
      { path: 'cursor', message: 'is not a valid cursor' },
    ]);
  }
  return position;
}

/** The `nextCursor` of a page: the cursor of its next page, or null on the last page. */
export function nextCursorOf(page: { next?: KeysetPosition }): string | null {
  return page.next ? encodeCursor(page.next) : null;
}
