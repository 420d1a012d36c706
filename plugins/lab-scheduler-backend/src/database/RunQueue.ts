import { Knex } from 'knex';
import { numberOrNull } from './rows';
import { RunRow, RUNS } from './tables';

/** A pending or queued run with what the dispatcher knows of its place on the instrument. */
export interface WaitingRunRow {
  id: string;
  taskId: string;
  status: 'pending' | 'queued';
  scheduledFor: number;
  /** The instrument the run was claimed for (null for runs created before instruments were recorded). */
  instrumentRef: string | null;
  /** The instrument slot the run holds from its publish until it ends; null while it waits for one. */
  slot: number | null;
  publishFailures: number;
  error: string | null;
}

/** An instrument's line: runs holding a slot, and the due runs waiting for one, first in line first. */
export interface InstrumentLine {
  busy: number;
  waiting: { id: string; scheduledFor: number }[];
}

/** The most waiting runs of one instrument read to count how many are ahead of a run. */
const MAX_LINE = 10_000;

/**
 * Read-only view of the runs table as the instruments' queues: the dispatcher holds a due run (pending,
 * no slot) while its instrument's slots are all taken, and releases them in scheduled order.
 */
export class RunQueue {
  constructor(private readonly knex: Knex) {}

  /** The given runs that are still pending or queued. */
  async waitingRuns(ids: string[]): Promise<WaitingRunRow[]> {
    if (ids.length === 0) return [];
    const rows: Pick<
      RunRow,
      | 'id'
      | 'task_id'
      | 'status'
      | 'scheduled_for'
      | 'instrument_ref'
      | 'slot'
      | 'publish_failures'
      | 'error'
    >[] = await this.knex(RUNS)
      .select(
        'id',
        'task_id',
        'status',
        'scheduled_for',
        'instrument_ref',
        'slot',
        'publish_failures',
        'error',
      )
      .whereIn('id', ids)
      .whereIn('status', ['pending', 'queued']);
    return rows.map(row => ({
      id: row.id,
      taskId: row.task_id,
      status: row.status as WaitingRunRow['status'],
      scheduledFor: Number(row.scheduled_for),
      instrumentRef: row.instrument_ref,
      slot: numberOrNull(row.slot),
      publishFailures: Number(row.publish_failures ?? 0),
      error: row.error,
    }));
  }

  /** The instrument's held slots and its line of due runs without one (as of `nowMs`). */
  async line(instrumentRef: string, nowMs: number): Promise<InstrumentLine> {
    const [busy] = await this.knex(RUNS)
      .count({ n: '*' })
      .where('instrument_ref', instrumentRef)
      .whereNotNull('slot');
    const waiting: Pick<RunRow, 'id' | 'scheduled_for'>[] = await this.knex(
      RUNS,
    )
      .select('id', 'scheduled_for')
      .where('status', 'pending')
      .where('instrument_ref', instrumentRef)
      .whereNull('slot')
      .where('scheduled_for', '<=', nowMs)
      .orderBy([
        { column: 'scheduled_for', order: 'asc' },
        { column: 'id', order: 'asc' },
      ])
      .limit(MAX_LINE);
    return {
      busy: Number(busy?.n ?? 0),
      waiting: waiting.map(r => ({
        id: r.id,
        scheduledFor: Number(r.scheduled_for),
      })),
    };
  }

  /** Runs on the instrument that hold it now or are about to (queued or running), for clash checks. */
  async activeRuns(
    instrumentRef: string,
  ): Promise<
    { taskId: string; scheduledFor: number; startedAt: number | null }[]
  > {
    const rows: Pick<RunRow, 'task_id' | 'scheduled_for' | 'started_at'>[] =
      await this.knex(RUNS)
        .select('task_id', 'scheduled_for', 'started_at')
        .where('instrument_ref', instrumentRef)
        .whereNotNull('slot')
        .limit(MAX_LINE);
    return rows.map(r => ({
      taskId: r.task_id,
      scheduledFor: Number(r.scheduled_for),
      startedAt: numberOrNull(r.started_at),
    }));
  }
}
