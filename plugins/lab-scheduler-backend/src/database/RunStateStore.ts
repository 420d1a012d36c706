import { ConflictError, NotFoundError } from '@backstage/errors';
import type { Run, RunResult } from '@internal/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { runFromRow } from './DatabaseTaskStore';

const RUNS = 'lab_scheduler_runs';

const TERMINAL = [
  'succeeded',
  'failed',
  'dead_lettered',
  'skipped',
  'cancelled',
];

/**
 * Status transitions reported by the executor. Every transition is a conditional UPDATE, so concurrent
 * or repeated deliveries of one message cannot measure twice or overwrite a finished run.
 */
export class RunStateStore {
  constructor(
    private readonly knex: Knex,
    private readonly options: {
      /** A run "running" for longer than this is presumed crashed and may be started again. */
      staleRunningMs: number;
    },
  ) {}

  private async current(runId: string): Promise<Run> {
    const row = await this.knex(RUNS).where({ id: runId }).first();
    if (!row) throw new NotFoundError(`Run ${runId} not found`);
    return runFromRow(row);
  }

  /**
   * queued (or pending: published but not yet recorded) → running. Returns whether this delivery should
   * measure. Only a message of the run's current claim may start it: a message whose claim token has
   * been superseded (see the claim_tokens migration) is refused like a duplicate delivery.
   */
  async start(
    runId: string,
    attempt: number,
    nowMs: number,
    claimToken?: string,
  ): Promise<{ proceed: boolean; run: Run }> {
    const updated = await this.knex(RUNS)
      .where({ id: runId })
      .where(q =>
        q
          .whereIn('status', ['queued', 'pending'])
          .orWhere(q2 =>
            q2
              .where('status', 'running')
              .where('started_at', '<', nowMs - this.options.staleRunningMs),
          ),
      )
      .where(q =>
        claimToken === undefined
          ? q.whereNull('claim_token')
          : q.whereNull('claim_token').orWhere('claim_token', claimToken),
      )
      .update({
        status: 'running',
        started_at: nowMs,
        attempt: this.knex.raw(
          'case when attempt < ? then ? else attempt end',
          [attempt, attempt],
        ),
        // The message reached the queue even if the dispatcher died before recording it.
        published_at: this.knex.raw('coalesce(published_at, ?)', [nowMs]),
        lease_expires_at: null,
        error: null,
      });
    return { proceed: updated === 1, run: await this.current(runId) };
  }

  /** running → succeeded with the result; repeating it is harmless. */
  async succeed(runId: string, result: RunResult, nowMs: number): Promise<Run> {
    const updated = await this.knex(RUNS)
      .where({ id: runId, status: 'running' })
      .update({
        status: 'succeeded',
        finished_at: nowMs,
        result: JSON.stringify(result),
        error: null,
        slot: null,
      });
    const run = await this.current(runId);
    if (updated !== 1 && run.status !== 'succeeded') {
      throw new ConflictError(`Run ${runId} is ${run.status}, not running`);
    }
    return run;
  }

  /**
   * running → queued again (a retry is coming), or → failed / dead_lettered (final; the instrument slot
   * is released). A final failure is also accepted for a queued run: the dead-letter path may report
   * a run whose executor never started it.
   */
  async fail(
    runId: string,
    error: string,
    options: { retrying: boolean; deadLettered?: boolean },
    nowMs: number,
  ): Promise<Run> {
    const update = options.retrying
      ? { status: 'queued', error }
      : {
          status: options.deadLettered ? 'dead_lettered' : 'failed',
          finished_at: nowMs,
          error,
          slot: null,
        };
    const allowedFrom = options.retrying
      ? ['running']
      : ['running', 'queued', 'pending'];
    const updated = await this.knex(RUNS)
      .where({ id: runId })
      .whereIn('status', allowedFrom)
      .update(update);
    const run = await this.current(runId);
    if (updated !== 1 && !TERMINAL.includes(run.status)) {
      throw new ConflictError(
        `Run ${runId} is ${run.status}; cannot record failure`,
      );
    }
    return run;
  }

  /** Runs "running" far beyond the stale limit (executor lost) become failed and free their slot. */
  async failStaleRuns(nowMs: number, timeoutMs: number): Promise<number> {
    return this.knex(RUNS)
      .where('status', 'running')
      .where('started_at', '<', nowMs - timeoutMs)
      .update({
        status: 'failed',
        finished_at: nowMs,
        error: `No result within ${Math.round(
          timeoutMs / 1000,
        )} s of the start: the executor was lost`,
        slot: null,
      });
  }
}
