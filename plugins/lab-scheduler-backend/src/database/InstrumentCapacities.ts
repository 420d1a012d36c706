import { Knex } from 'knex';
import { TaskRow, TASKS } from './tables';

/**
 * An instrument's capacity (how many runs it takes at once) belongs to the instrument: it comes from
 * the catalog, never from a task. Each task row keeps a copy (`instrument_concurrency`), set from the
 * catalog when the task is created or moved to another instrument and refreshed here, so that the
 * dispatcher's claim reads it without a catalog call; the copies converge on the catalog's value at each
 * refresh.
 */
export class InstrumentCapacities {
  constructor(private readonly knex: Knex) {}

  /** Instruments that live tasks (not deleted, not completed) are on. */
  async instrumentsInUse(): Promise<string[]> {
    const rows: Pick<TaskRow, 'instrument_ref'>[] = await this.knex(TASKS)
      .distinct('instrument_ref')
      .whereNull('deleted_at')
      .whereNot('state', 'completed');
    return rows.map(r => r.instrument_ref);
  }

  /** Sets the capacity on every task of the instrument that has another value; returns how many. */
  async apply(instrumentRef: string, capacity: number | null): Promise<number> {
    return this.knex(TASKS)
      .where('instrument_ref', instrumentRef)
      .whereNull('deleted_at')
      .where(q =>
        capacity === null
          ? q.whereNotNull('instrument_concurrency')
          : q
              .whereNull('instrument_concurrency')
              .orWhereNot('instrument_concurrency', capacity),
      )
      .update({ instrument_concurrency: capacity });
  }

  /** Reads every instrument in use from `capacityOf` and applies it; returns the tasks changed. */
  async refresh(
    capacityOf: (instrumentRef: string) => Promise<number | null>,
  ): Promise<number> {
    let changed = 0;
    for (const ref of await this.instrumentsInUse()) {
      changed += await this.apply(ref, await capacityOf(ref));
    }
    return changed;
  }
}
