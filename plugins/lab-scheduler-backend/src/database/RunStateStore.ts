import { ConflictError, NotFoundError } from '@backstage/errors';
import type {
  Run,
  RunResult,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { humanDuration } from '@lab-scheduler/plugin-lab-scheduler-common';
import { whereQueuedBefore } from './queuedRuns';
import { isoOrNull, runFromRow } from './rows';
import { completeEndedTasks, lockTasksOfRuns } from './taskCompletion';
import {
  FINISHED_RUN_STATUSES,
  RUN_EVENTS,
  RunEventRow,
  RunRow,
  RUNS,
} from './tables';

/** Clock skew between the host that published a run and the one that decides its message expired. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

/** Lost runs failed per transaction (one bound parameter each). */
const LOST_RUNS_BATCH = 500;

/** Who reports a run event, under which claim, and when. */
export interface RunReport {
  /** The reporting principal (e.g. the executor's service subject), for the run-event audit. */
  actor: string;
  /**
   * The claim token of the message being executed: the capability to report on this run. A report
   * without the run's current token changes nothing (runs claimed before tokens existed have none).
   */
  claimToken?: string;
  nowMs: number;
}

/** A failure an executor reported: final, or with a retry coming. */
export interface RunFailure {
  error: string;
  retrying: boolean;
  /** Final because every delivery failed (the message went to the dead-letter queue). */
  deadLettered?: boolean;
}

/** What an executor reported about a run. */
export type RunEventType = 'started' | 'succeeded' | 'failed';

/** One entry of a run's event audit. */
export interface RunEventEntry {
  at: string;
  actor: string;
  event: RunEventType;
  accepted: boolean;
  status: string;
  detail: Record<string, unknown> | null;
}

export interface RunStateStoreOptions {
  /** A run "running" for longer than this is presumed crashed and may be started again. */
  staleRunningMs: number;
  /** Upgrade window only: accept reports that carry no claim token (the fence is off for them). */
  acceptReportsWithoutClaimToken?: boolean;
}

/**
 * Status transitions reported by the executor. Every transition is a conditional UPDATE, so concurrent
 * or repeated deliveries of one message cannot measure twice or overwrite a finished run; and every
 * report, accepted or refused, is written to the append-only run-event audit with its principal.
 */
export class RunStateStore {
  constructor(
    private readonly knex: Knex,
    private readonly options: RunStateStoreOptions,
  ) {}

  /**
   * Only the run's current claim may report (see the claim_tokens migration). Runs from before claim
   * tokens have none. During an upgrade, `acceptReportsWithoutClaimToken` lets executors that do not
   * send tokens yet report as before.
   */
  private underClaim(q: Knex.QueryBuilder, claimToken?: string) {
    if (claimToken === undefined) {
      return this.options.acceptReportsWithoutClaimToken
        ? q
        : q.whereNull('claim_token');
    }
    return q.whereNull('claim_token').orWhere('claim_token', claimToken);
  }

  /** Why a report changed nothing: a wrong claim, or a run no longer in a state it applies to. */
  private static refusal(
    row: Pick<RunRow, 'status' | 'claim_token'>,
    claimToken?: string,
  ): string {
    if (row.claim_token !== null && row.claim_token !== claimToken) {
      return claimToken === undefined
        ? 'no claim token'
        : 'not the current claim of this run';
    }
    return `run is ${row.status}`;
  }

  /**
   * Applies a conditional update and audits the report, in one transaction. Returns whether the update
   * applied, the run after it, and the row (for the caller's own checks).
   */
  private async report(options: {
    runId: string;
    event: RunEventType;
    report: RunReport;
    /** The conditional update: it applied when it changed the run's row. */
    apply: (tx: Knex.Transaction) => Promise<number>;
    /** What the run-event audit keeps of the report. */
    detail: Record<string, unknown>;
    /** The update ends the run when it applies: its task may complete (see taskCompletion). */
    ends?: boolean;
  }): Promise<{ applied: boolean; run: Run; refusal?: string }> {
    const { runId, event, report, apply, detail, ends } = options;
    return this.knex.transaction(async tx => {
      if (ends) await lockTasksOfRuns(tx, [runId]);
      const applied = (await apply(tx)) === 1;
      const row: RunRow | undefined = await tx(RUNS)
        .where({ id: runId })
        .first();
      if (!row) throw new NotFoundError(`Run ${runId} not found`);
      if (applied && ends)
        await completeEndedTasks(tx, [row.task_id], report.nowMs);
      const refusal = applied
        ? undefined
        : RunStateStore.refusal(row, report.claimToken);
      await tx(RUN_EVENTS).insert({
        run_id: runId,
        task_id: row.task_id,
        at: report.nowMs,
        actor: report.actor.slice(0, 255),
        event,
        accepted: applied,
        status: row.status,
        detail: JSON.stringify(refusal ? { ...detail, refusal } : detail),
      });
      return { applied, run: runFromRow(row), refusal };
    });
  }

  /**
   * queued (or pending: published but not yet recorded) → running. Returns whether this delivery should
   * measure. A message of a superseded claim is refused like a duplicate delivery.
   */
  async start(
    runId: string,
    attempt: number,
    report: RunReport,
  ): Promise<{ proceed: boolean; run: Run }> {
    const { nowMs, claimToken } = report;
    const { applied, run } = await this.report({
      runId,
      event: 'started',
      report,
      apply: tx =>
        tx(RUNS)
          .where({ id: runId })
          .where(q =>
            q
              .whereIn('status', ['queued', 'pending'])
              .orWhere(q2 =>
                q2
                  .where('status', 'running')
                  .where(
                    'started_at',
                    '<',
                    nowMs - this.options.staleRunningMs,
                  ),
              ),
          )
          .where(q => this.underClaim(q, claimToken))
          .update({
            status: 'running',
            started_at: nowMs,
            attempt: tx.raw('case when attempt < ? then ? else attempt end', [
              attempt,
              attempt,
            ]),
            // The message reached the queue even if the dispatcher died before recording it.
            published_at: tx.raw('coalesce(published_at, ?)', [nowMs]),
            lease_expires_at: null,
            error: null,
          }),
      detail: { attempt },
    });
    return { proceed: applied, run };
  }

  /** running → succeeded with the result; repeating it is harmless. */
  async succeed(
    runId: string,
    result: RunResult,
    report: RunReport,
  ): Promise<Run> {
    const { applied, run, refusal } = await this.report({
      runId,
      event: 'succeeded',
      report,
      apply: tx =>
        tx(RUNS)
          .where({ id: runId, status: 'running' })
          .where(q => this.underClaim(q, report.claimToken))
          .update({
            status: 'succeeded',
            finished_at: report.nowMs,
            result: JSON.stringify(result),
            error: null,
            slot: null,
          }),
      detail: { qc: result.qc.status, durationMs: result.durationMs },
      ends: true,
    });
    if (
      !applied &&
      !(run.status === 'succeeded' && refusal === 'run is succeeded')
    ) {
      throw new ConflictError(`Run ${runId} cannot succeed: ${refusal}`);
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
    failure: RunFailure,
    report: RunReport,
  ): Promise<Run> {
    const { error, retrying, deadLettered } = failure;
    const update = retrying
      ? { status: 'queued', error }
      : {
          status: deadLettered ? 'dead_lettered' : 'failed',
          finished_at: report.nowMs,
          error,
          slot: null,
        };
    const allowedFrom = retrying
      ? ['running']
      : ['running', 'queued', 'pending'];
    const { applied, run, refusal } = await this.report({
      runId,
      event: 'failed',
      report,
      apply: tx =>
        tx(RUNS)
          .where({ id: runId })
          .whereIn('status', allowedFrom)
          .where(q => this.underClaim(q, report.claimToken))
          .update(update),
      detail: { ...failure, error: error.slice(0, 500) },
      ends: !retrying,
    });
    const repeated =
      FINISHED_RUN_STATUSES.includes(run.status) &&
      refusal === `run is ${run.status}`;
    if (!applied && !repeated) {
      throw new ConflictError(
        `Run ${runId}: cannot record the failure: ${refusal}`,
      );
    }
    return run;
  }

  /** The run's event audit, oldest first. */
  async listRunEvents(runId: string, limit = 200): Promise<RunEventEntry[]> {
    const rows: RunEventRow[] = await this.knex(RUN_EVENTS)
      .where({ run_id: runId })
      .orderBy('seq', 'asc')
      .limit(limit);
    return rows.map(row => ({
      at: isoOrNull(row.at)!,
      actor: row.actor,
      event: row.event as RunEventType,
      accepted: Boolean(row.accepted),
      status: row.status,
      detail: row.detail ? JSON.parse(row.detail) : null,
    }));
  }

  /**
   * Runs "running" far beyond the stale limit (executor lost) become failed and free their slot; their
   * tasks complete if nothing else is left to run. `error` says why (default: the limit was passed).
   */
  async failStaleRuns(
    nowMs: number,
    timeoutMs: number,
    error = `No result within ${Math.round(
      timeoutMs / 1000,
    )} s of the start: the executor was lost`,
  ): Promise<number> {
    return this.failLostRuns(
      q =>
        q
          .where('status', 'running')
          .where('started_at', '<', nowMs - timeoutMs),
      nowMs,
      error,
    );
  }

  /**
   * Runs queued for longer than the queue keeps a message (SQS: its retention period, counted from the
   * first send, which a retry does not renew) will never be delivered again: their message is gone,
   * unread or moved to the dead-letter queue without a report. They fail, saying so (a run that had
   * started keeps its last attempt's error after that), and free their slot; their tasks complete if
   * nothing else is left to run. Without this they would stay "queued" for ever and hold their
   * instrument's slot. The bound has EXPIRY_MARGIN_MS more than the retention: the publish instant is
   * the dispatcher host's clock, the sweep's is another host's.
   */
  async failExpiredQueuedRuns(
    nowMs: number,
    messageRetentionMs: number,
  ): Promise<number> {
    const within = humanDuration(messageRetentionMs);
    return this.failLostRuns(
      q => whereQueuedBefore(q, nowMs - messageRetentionMs - EXPIRY_MARGIN_MS),
      nowMs,
      this.knex.raw(
        `case when started_at is null then ? else ? || coalesce(? || error, '') end`,
        [
          `No executor took this run within ${within} of its publish, and the queue keeps a message no longer: it was not measured`,
          `Not started again within ${within} of its publish, and the queue keeps a message no longer: its attempts ended without a result`,
          '. Last attempt: ',
        ],
      ),
    );
  }

  /**
   * Fails the runs `lost` selects, a batch per transaction (a backlog of thousands does not hold the
   * task locks of all of them at once), and completes their tasks if nothing else is left to run.
   */
  private async failLostRuns(
    lost: (query: Knex.QueryBuilder) => Knex.QueryBuilder,
    nowMs: number,
    error: string | Knex.Raw,
  ): Promise<number> {
    let failed = 0;
    for (;;) {
      const batch = await this.knex.transaction(async tx => {
        const runs: Pick<RunRow, 'id' | 'task_id'>[] = await lost(
          tx(RUNS).select('id', 'task_id'),
        ).limit(LOST_RUNS_BATCH);
        if (runs.length === 0) return { found: 0, ended: 0 };
        const ids = runs.map(r => r.id);
        await lockTasksOfRuns(tx, ids);
        // Still lost once their tasks are locked: a report may have ended one meanwhile.
        const ended: number = await lost(tx(RUNS).whereIn('id', ids)).update({
          status: 'failed',
          finished_at: nowMs,
          error,
          slot: null,
        });
        await completeEndedTasks(
          tx,
          runs.map(r => r.task_id),
          nowMs,
        );
        return { found: runs.length, ended };
      });
      failed += batch.ended;
      // A batch that found fewer than it may hold was the last.
      if (batch.found < LOST_RUNS_BATCH) return failed;
    }
  }
}
