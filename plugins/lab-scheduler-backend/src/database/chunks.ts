/**
 * Runs `fn` over consecutive slices of at most `size` items, one after the other and in order.
 *
 * Statements that bind a parameter per item (an IN list) or per column of each item (a multi-row
 * VALUES list or INSERT) go through this, so that each statement stays under SQLite's limit of bound
 * parameters (32,766 in the SQLite that better-sqlite3 bundles; SQLITE_MAX_VARIABLE_NUMBER) whatever the
 * batch size. Each caller picks its size from its parameters per item and says so.
 */
export async function forEachChunk<T>(
  items: readonly T[],
  size: number,
  fn: (chunk: T[]) => Promise<unknown>,
): Promise<void> {
  if (!(Number.isSafeInteger(size) && size > 0)) {
    throw new RangeError(`Chunk size must be a positive integer, not ${size}`);
  }
  for (let i = 0; i < items.length; i += size) {
    await fn(items.slice(i, i + size));
  }
}
