import type {
  RecentResult,
  RunOutcomeKind,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { applyFilter } from './DatabaseTaskStore';
import { runFromRow } from './rows';
import { FINISHED_RUN_STATUSES, RunRow, RUNS, TaskRow, TASKS } from './tables';
import { keysetPage, KeysetOrder, PageOptions, PageResult } from './keyset';
import { TaskFilter } from './TaskStore';

/** Latest finished first; the recent results index is on (finished_at, id). */
const RECENT_ORDER: KeysetOrder<RunRow> = {
  key: 'r.finished_at',
  id: 'r.id',
  direction: 'desc',
  positionOf: row => ({ k: Number(row.finished_at), id: row.id }),
};

/** `after`: finishedAt (ms) and run id of the last row of the previous page. */
export interface ListRecentResultsOptions extends PageOptions {
  /** Finished outcome kinds to include; all finished runs when absent. */
  outcomes?: RunOutcomeKind[];
  /** Restriction from a conditional read decision, over task columns. */
  permissionFilter?: TaskFilter;
}

/**
 * The SQL form of `runOutcome` (lab-scheduler-common) for finished runs: succeeded runs split on the QC
 * verdict stored in the result, every other finished status is its own outcome. RecentResultStore.test
 * checks it against runOutcome on every combination, so the two cannot drift apart.
 */
function whereOutcome(
  query: Knex.QueryBuilder,
  kind: RunOutcomeKind,
  qcStatus: string,
): void {
  switch (kind) {
    case 'qc_pass':
      query.where('r.status', 'succeeded').whereRaw(`${qcStatus} = 'pass'`);
      return;
    case 'qc_fail':
      query.where('r.status', 'succeeded').whereRaw(`${qcStatus} = 'fail'`);
      return;
    case 'measured':
      query
        .where('r.status', 'succeeded')
        .whereRaw(`coalesce(${qcStatus}, '') not in ('pass', 'fail')`);
      return;
    default:
      query.where('r.status', kind);
  }
}

/** Latest finished runs across tasks, for the "Recent results" view. */
export class RecentResultStore {
  private readonly qcStatus: string;

  constructor(private readonly knex: Knex) {
    this.qcStatus =
      knex.client.config.client === 'pg'
        ? `(r.result::jsonb #>> '{qc,status}')`
        : `json_extract(r.result, '$.qc.status')`;
  }

  async listRecentResults(
    options: ListRecentResultsOptions,
  ): Promise<PageResult<RecentResult>> {
    const query = this.knex(`${RUNS} as r`)
      .select('r.*')
      .whereNotNull('r.finished_at')
      .whereIn('r.status', FINISHED_RUN_STATUSES)
      // Runs of tasks the caller may read: the permission conditions go into SQL, as in GET /tasks.
      .whereIn('r.task_id', tasks => {
        tasks.select('id').from(TASKS).whereNull('deleted_at');
        if (options.permissionFilter)
          applyFilter(tasks, options.permissionFilter);
      });
    const outcomes = options.outcomes;
    if (outcomes) {
      query.where(q => {
        for (const kind of outcomes)
          q.orWhere(inner => whereOutcome(inner, kind, this.qcStatus));
      });
    }
    const { rows: pageRows, next } = await keysetPage(
      query,
      RECENT_ORDER,
      options,
    );
    const taskIds = [...new Set(pageRows.map(row => row.task_id))];
    const taskRows: Pick<
      TaskRow,
      'id' | 'name' | 'instrument_ref' | 'owner' | 'measurement_type'
    >[] =
      taskIds.length === 0
        ? []
        : await this.knex(TASKS)
            .select('id', 'name', 'instrument_ref', 'owner', 'measurement_type')
            .whereIn('id', taskIds);
    const tasks = new Map(
      taskRows.map(t => [
        t.id,
        {
          id: t.id,
          name: t.name,
          instrumentRef: t.instrument_ref,
          owner: t.owner,
          measurementType: t.measurement_type,
        },
      ]),
    );
    return {
      items: pageRows.map(row => ({
        run: runFromRow(row),
        task: tasks.get(row.task_id)!,
      })),
      next,
    };
  }
}
