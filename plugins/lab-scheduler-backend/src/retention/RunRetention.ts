import { LoggerService } from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import { unlink } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { timeOrderedUuid } from '../database/ids';
import { FINISHED_RUN_STATUSES, RunRow, RUNS } from '../database/tables';
import { RunRetentionSettings } from './retentionConfig';

export interface RetentionSweepResult {
  /** Run rows deleted. */
  runs: number;
  /** Local raw-data files of those runs deleted. */
  rawFiles: number;
  /** Short transactions the sweep took. */
  batches: number;
}

type DeletedRun = Pick<RunRow, 'id' | 'result'>;

/**
 * Deletes finished runs older than the retention period, keeping at least the newest `keepLastPerTask`
 * finished runs of every task, and the local raw data of the runs it deletes.
 *
 * Built to run beside the dispatcher: it walks the runs' primary key (time-ordered ids) from the oldest
 * to the first id created after the cut-off, a window of `batchSize` ids at a time, each batch one
 * statement in its own short transaction. On PostgreSQL it skips rows another transaction holds
 * (SKIP LOCKED), so it never waits for a claim; pending, queued and running runs are never candidates.
 * Raw data in S3 is expired by the bucket's lifecycle rule (see the CDK stack), not here.
 */
export class RunRetention {
  private readonly isPostgres: boolean;

  constructor(
    private readonly options: {
      knex: Knex;
      settings: RunRetentionSettings;
      /** Local raw-data folder (queue type inProcess); files outside it are never touched. */
      rawDataDirectory?: string;
      logger?: LoggerService;
    },
  ) {
    this.isPostgres = options.knex.client.config.client === 'pg';
  }

  async sweep(
    nowMs: number,
    signal?: AbortSignal,
  ): Promise<RetentionSweepResult> {
    const { settings } = this.options;
    const cutoff = nowMs - settings.keepFinishedRunsMs;
    // No run created at or after the cut-off can have finished before it.
    const idBound = timeOrderedUuid(cutoff).slice(0, 13);
    const total: RetentionSweepResult = { runs: 0, rawFiles: 0, batches: 0 };
    let cursor = '';
    while (!signal?.aborted) {
      const window: Pick<RunRow, 'id'>[] = await this.options
        .knex(RUNS)
        .select('id')
        .where('id', '>', cursor)
        .where('id', '<', idBound)
        .orderBy('id')
        .limit(settings.batchSize);
      if (window.length === 0) break;
      const windowEnd = window[window.length - 1].id;
      const deleted = await this.deleteBatch(cursor, windowEnd, cutoff);
      total.batches++;
      total.runs += deleted.length;
      total.rawFiles += await this.deleteRawFiles(deleted);
      cursor = windowEnd;
      if (settings.pauseBetweenBatchesMs > 0) {
        await new Promise(r => setTimeout(r, settings.pauseBetweenBatchesMs));
      }
    }
    return total;
  }

  /** Deletes the finished, expired, not-among-the-last-K runs with ids in (after, through]. */
  private async deleteBatch(
    after: string,
    through: string,
    cutoff: number,
  ): Promise<DeletedRun[]> {
    const keepLastPerTask = this.options.settings.keepLastRunsPerTask;
    // Retention deletes finished runs only: nothing else is ever a candidate.
    const statuses = FINISHED_RUN_STATUSES.map(() => '?').join(', ');
    // A run is among its task's last K finished runs unless the K-th newest one is later than it
    // (no K-th one: the task has fewer, keep them all). One ordered probe of (task_id, scheduled_for).
    const keepLast =
      keepLastPerTask > 0
        ? `and r.scheduled_for < (
             select k.scheduled_for from ${RUNS} k
             where k.task_id = r.task_id and k.status in (${statuses})
             order by k.scheduled_for desc
             limit 1 offset ${keepLastPerTask - 1})`
        : '';
    const lock = this.isPostgres ? 'for update of r skip locked' : '';
    const result = await this.options.knex.raw(
      `delete from ${RUNS} where id in (
         select r.id from ${RUNS} r
         where r.id > ? and r.id <= ?
           and r.status in (${statuses})
           and r.finished_at < ?
           ${keepLast}
         ${lock})
       returning id, result`,
      [
        after,
        through,
        ...FINISHED_RUN_STATUSES,
        cutoff,
        ...(keepLastPerTask > 0 ? FINISHED_RUN_STATUSES : []),
      ],
    );
    // pg answers { rows }, better-sqlite3 the rows themselves.
    return (Array.isArray(result) ? result : result.rows) as DeletedRun[];
  }

  private async deleteRawFiles(runs: DeletedRun[]): Promise<number> {
    const directory = this.options.rawDataDirectory;
    if (!directory) return 0;
    const root = resolve(directory);
    let deleted = 0;
    for (const run of runs) {
      const path = localRawDataPath(run.result, root);
      if (!path) continue;
      try {
        await unlink(path);
        deleted++;
      } catch (error: any) {
        if (error?.code !== 'ENOENT') {
          this.options.logger?.warn('Could not delete raw data of a run', {
            runId: run.id,
            error: String(error),
          });
        }
      }
    }
    return deleted;
  }
}

/** The file of a run's raw data when it lies inside `root`; undefined for S3 objects and anything else. */
function localRawDataPath(
  result: string | null,
  root: string,
): string | undefined {
  if (!result) return undefined;
  let uri: unknown;
  try {
    uri = JSON.parse(result)?.rawData?.uri;
  } catch {
    return undefined;
  }
  if (typeof uri !== 'string' || !uri.startsWith('file://')) return undefined;
  // As LocalRawDataStore writes it and GET /runs/:id/raw reads it: file:// and the path as is.
  const path = resolve(uri.slice('file://'.length));
  return path.startsWith(root + sep) ? path : undefined;
}
