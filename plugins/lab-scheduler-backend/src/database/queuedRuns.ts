import { Knex } from 'knex';

/**
 * Narrows `query` to the runs queued since before `beforeMs`: published before it (or created before it,
 * for a row from before runs recorded their publish), whether or not an attempt started and was retried
 * since (a caller that cares adds its own condition). The expression is the one
 * lab_scheduler_runs_queued_idx is built on (migration 20261129140000), written once here so that both
 * sweeps that read it (the in-process queue's requeue, the SQS expiry) keep using the index. `prefix`
 * is the runs table's alias with its dot ('r.'), if the query has one.
 */
export function whereQueuedBefore<Q extends Knex.QueryBuilder>(
  query: Q,
  beforeMs: number,
  prefix = '',
): Q {
  return query
    .where(`${prefix}status`, 'queued')
    .whereRaw(`coalesce(${prefix}published_at, ${prefix}created_at) < ?`, [
      beforeMs,
    ]) as Q;
}
