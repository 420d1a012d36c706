import {
  RunMessage,
  RUN_MESSAGE_SCHEMA_VERSION,
  TaskPolicies,
  TaskSchedule,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { planOccurrences } from '../dispatcher/planOccurrences';
import { sortKeyAfterAdvance, stateAfterAdvance } from '../tasks/lifecycle';
import { forEachChunk } from './chunks';
import { whereQueuedBefore } from './queuedRuns';
import { newClaimToken, timeOrderedUuid } from './ids';
import {
  completeEndedTasks,
  lockTasksOfRuns,
  occurrencesUnderWay,
} from './taskCompletion';
import { NextRun, writeNextRuns } from './nextRuns';
import { numberOrNull } from './rows';
import {
  ACTIVE_RUN_STATUSES,
  NEXT_RUNS,
  RUN_OCCURRENCE_KEY,
  RunRow,
  RUNS,
  TaskRow,
  TASKS,
} from './tables';

/** When a pending run may be claimed: its lease end, or 0 when nobody holds it (the index expression). */
const CLAIMABLE_AT = 'coalesce(lease_expires_at, 0)';

/** An instrument's slots as this round knows them. */
interface InstrumentSlots {
  taken: Set<number>;
  /** Read again once all looked taken. */
  reread?: boolean;
}

/** What the claim reads of a due task: what its plan and its runs' messages need, and the guard. */
const DUE_TASK_COLUMNS = [
  'id',
  'name',
  'owner',
  'instrument_ref',
  'measurement_type',
  'measurement_parameters',
  'schedule',
  'state',
  'deleted_at',
  'sort_at',
  'misfire_policy',
  'misfire_window_seconds',
  'overlap_policy',
  'instrument_concurrency',
] as const;

/** A due task as the claim reads it, with its next run. */
type DueTaskRow = Pick<TaskRow, (typeof DUE_TASK_COLUMNS)[number]> & {
  next_run_at: string | number;
};

/** A run claimed by this dispatcher instance, ready to publish. */
export interface ClaimedRun {
  id: string;
  taskId: string;
  scheduledFor: number;
  attempt: number;
  instrumentRef: string;
  instrumentConcurrency: number | null;
  slot: number | null;
  publishFailures: number;
  /** The instance that held the claim before, when this claim recovers someone else's run. */
  previousClaimant: string | null;
  /** This claim's token: publishes are recorded, and the executor starts the run, only under it. */
  claimToken: string;
  message: RunMessage;
}

export interface ClaimResult {
  runs: ClaimedRun[];
  tasksClaimed: number;
  skipped: number;
  /** True when the batch was full: more may be due right away. */
  more: boolean;
}

/** A claimed run with its task's columns that the message needs. */
type ClaimRow = Pick<
  RunRow,
  | 'id'
  | 'task_id'
  | 'scheduled_for'
  | 'attempt'
  | 'slot'
  | 'publish_failures'
  | 'claimed_by'
> &
  Pick<
    TaskRow,
    | 'instrument_ref'
    | 'name'
    | 'owner'
    | 'measurement_type'
    | 'measurement_parameters'
    | 'instrument_concurrency'
  > & {
    /** A claimed run always has its claim's token. */
    claim_token: string;
  };

/**
 * A task row's new state and sort key after a claim (lifecycle.ts: `stateAfterAdvance`,
 * `sortKeyAfterAdvance`), for the tasks where either changes.
 */
type TaskChange = {
  id: string;
  sortAt: number;
  state: 'active' | 'completed';
};

/** A new run row, as the claim inserts it. */
type NewRunRow = Pick<
  RunRow,
  | 'id'
  | 'task_id'
  | 'instrument_ref'
  | 'scheduled_for'
  | 'status'
  | 'attempt'
  | 'claimed_by'
  | 'claim_token'
  | 'claimed_at'
  | 'lease_expires_at'
  | 'finished_at'
  | 'error'
  | 'created_at'
>;

function toClaimed(row: ClaimRow): ClaimedRun {
  const scheduledFor = Number(row.scheduled_for);
  return {
    id: row.id,
    taskId: row.task_id,
    scheduledFor,
    attempt: Number(row.attempt),
    instrumentRef: row.instrument_ref,
    instrumentConcurrency: numberOrNull(row.instrument_concurrency),
    slot: numberOrNull(row.slot),
    publishFailures: Number(row.publish_failures ?? 0),
    previousClaimant: row.claimed_by,
    claimToken: row.claim_token,
    message: {
      schemaVersion: RUN_MESSAGE_SCHEMA_VERSION,
      runId: row.id,
      taskId: row.task_id,
      taskName: row.name,
      instrumentRef: row.instrument_ref,
      owner: row.owner,
      scheduledFor: new Date(scheduledFor).toISOString(),
      attempt: Number(row.attempt) + 1,
      claimToken: row.claim_token,
      measurement: {
        type: row.measurement_type,
        parameters: JSON.parse(row.measurement_parameters),
      },
    },
  };
}

/** Options of a claim of due tasks. */
export interface ClaimDueTasksOptions {
  instanceId: string;
  nowMs: number;
  /** Claim occurrences up to this instant (a little ahead of now: the caller waits to publish). */
  horizonMs?: number;
  batchSize: number;
  leaseMs: number;
  graceMs: number;
}

/** What a claim writes: its tasks' next runs, the task rows that change, and its new runs. */
interface ClaimWrites {
  nextRuns: NextRun[];
  taskChanges: TaskChange[];
  runRows: NewRunRow[];
}

/** How the claim's insert keeps an occurrence's existing run (see writeClaimPostgres). */
type ExistingRuns = 'skip-existing' | 'on-conflict';

/** A run inserted for an occurrence that already has one (PostgreSQL names the key). */
function isOccurrenceConflict(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === '23505' && e.constraint === RUN_OCCURRENCE_KEY;
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e?.code === '23505' ||
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    /UNIQUE constraint failed/i.test(e?.message ?? '')
  );
}

/** What a run's message is built from (ClaimRow): the run (`r`) joined with its task (`t`). */
const CLAIM_ROW_COLUMNS = [
  'r.id',
  'r.task_id',
  'r.scheduled_for',
  'r.attempt',
  'r.slot',
  'r.publish_failures',
  'r.claimed_by',
  'r.claim_token',
  't.instrument_ref',
  't.name',
  't.owner',
  't.measurement_type',
  't.measurement_parameters',
  't.instrument_concurrency',
];

/**
 * The dispatcher's SQL: claiming due tasks and runs atomically (FOR UPDATE SKIP LOCKED on PostgreSQL;
 * SQLite serialises writers, and the unique occurrence key guards both), leases, instrument slots and
 * publish bookkeeping.
 */
export class DispatchStore {
  private readonly isPostgres: boolean;

  constructor(readonly knex: Knex) {
    this.isPostgres = knex.client.config.client === 'pg';
  }

  private lock<T extends Knex.QueryBuilder>(
    query: T,
    strength: 'no key update' | 'update' = 'no key update',
  ): T {
    if (!this.isPostgres) return query;
    // NO KEY UPDATE where the row is updated (the claim never changes a key; it is the lock an UPDATE
    // takes anyway); UPDATE where it may be deleted.
    const locked =
      strength === 'update' ? query.forUpdate() : query.forNoKeyUpdate();
    return locked.skipLocked() as T;
  }

  /**
   * Claims up to `batchSize` due tasks: creates their run rows (claimed by `instanceId` with a lease),
   * advances their nextRunAt and completes finished ones, all in one transaction.
   */
  async claimDueTasks(options: ClaimDueTasksOptions): Promise<ClaimResult> {
    try {
      return await this.claimDueTasksOnce(options, 'skip-existing');
    } catch (error) {
      // Another transaction inserted a run for one of our occurrences after our statement's snapshot (a
      // "run now" in the same millisecond): claim again, letting the occurrence key absorb it.
      if (!this.isPostgres || !isOccurrenceConflict(error)) throw error;
      return this.claimDueTasksOnce(options, 'on-conflict');
    }
  }

  private async claimDueTasksOnce(
    options: ClaimDueTasksOptions,
    existingRuns: ExistingRuns,
  ): Promise<ClaimResult> {
    const { instanceId, nowMs, batchSize, leaseMs, graceMs } = options;
    const horizonMs = Math.max(options.horizonMs ?? nowMs, nowMs);
    const claimToken = newClaimToken();
    return this.knex.transaction(async tx => {
      // The due tasks, earliest first: one range scan of the next runs' index that stops at the batch,
      // then their task rows by primary key. Two statements, not a join: without statistics (a freshly
      // loaded table) the planner started a join from the tasks' state index and read every active task
      // per claim. Both rows are locked, skipping those held. The next run: this claim moves or deletes
      // it, and a claim whose snapshot still shows one that another claim has deleted skips the row
      // rather than claiming its occurrence again. The task: every writer of a task locks its row
      // (taskCompletion.ts).
      const due: { task_id: string; next_run_at: string | number }[] =
        await this.lock(
          tx(NEXT_RUNS)
            .select('task_id', 'next_run_at')
            .where('next_run_at', '<=', horizonMs)
            .orderBy('next_run_at', 'asc')
            .limit(batchSize),
          'update',
        );
      const nextRunOf = new Map(due.map(d => [d.task_id, d.next_run_at]));
      const taskRows: Omit<DueTaskRow, 'next_run_at'>[] =
        due.length === 0
          ? []
          : await this.lock(
              tx(TASKS)
                .select(DUE_TASK_COLUMNS)
                .whereIn(
                  'id',
                  due.map(d => d.task_id),
                ),
            );
      // A task with a next run is always active and not deleted (nextRuns.ts): a guard, not a filter.
      const tasks: DueTaskRow[] = taskRows
        .filter(t => t.state === 'active' && t.deleted_at === null)
        .map(t => ({ ...t, next_run_at: nextRunOf.get(t.id)! }));
      if (tasks.length === 0)
        return { runs: [], tasksClaimed: 0, skipped: 0, more: false };

      const overlapSkip = tasks
        .filter(t => t.overlap_policy === 'skip')
        .map(t => t.id);
      const activeTaskIds = new Set<string>();
      // One bound parameter per task.
      await forEachChunk(overlapSkip, 500, async chunk => {
        const rows: Pick<RunRow, 'task_id'>[] = await tx(RUNS)
          .distinct('task_id')
          .whereIn('task_id', chunk)
          .whereIn('status', ACTIVE_RUN_STATUSES);
        rows.forEach(r => activeTaskIds.add(r.task_id));
      });

      const runRows: NewRunRow[] = [];
      const plans = new Map<string, ReturnType<typeof planOccurrences>>();
      const taskById = new Map(tasks.map(t => [t.id, t]));
      let skipped = 0;
      for (const task of tasks) {
        const policies: TaskPolicies = {
          misfire: task.misfire_policy as TaskPolicies['misfire'],
          misfireWindowSeconds: Number(task.misfire_window_seconds),
          overlap: task.overlap_policy as TaskPolicies['overlap'],
          instrumentConcurrency: task.instrument_concurrency,
        };
        const plan = planOccurrences({
          schedule: JSON.parse(task.schedule) as TaskSchedule,
          policies,
          nextRunAt: Number(task.next_run_at),
          nowMs: horizonMs,
          graceMs,
          hasActiveRun: activeTaskIds.has(task.id),
        });
        plans.set(task.id, plan);
        for (const run of plan.runs) {
          const pending = run.status === 'pending';
          if (!pending) skipped++;
          runRows.push({
            id: timeOrderedUuid(nowMs),
            task_id: task.id,
            instrument_ref: task.instrument_ref,
            scheduled_for: run.scheduledFor,
            status: run.status,
            attempt: 0,
            claimed_by: pending ? instanceId : null,
            claim_token: pending ? claimToken : null,
            claimed_at: pending ? nowMs : null,
            lease_expires_at: pending ? horizonMs + leaseMs : null,
            finished_at: pending ? null : nowMs,
            error: run.error ?? null,
            created_at: nowMs,
          });
        }
      }
      // Whether a run of the task is under way once the claim is written decides whether a task with no
      // occurrence left completes. A pending run the claim inserts is one: no lookup for those (a lookup
      // for every claimed one-time task cost a quarter of a drain's database time). The others with no
      // occurrence left (their last one skipped) look up the runs they had under way before. The task
      // rows are locked above, and whatever ends a run locks its task first (taskCompletion.ts), so no
      // run of theirs ends while this claim decides.
      const startsRun = new Set(
        runRows.filter(r => r.status === 'pending').map(r => r.task_id),
      );
      const underWay = new Set(startsRun);
      // A task with no next run sorts at "the instant of the occurrence its last run under way runs for"
      // (lifecycle.ts). When a claim takes several occurrences at once (a catch-up: misfire run_all),
      // that is the latest one it started a run for, not the first one it took (next_run_at before the
      // claim), which would sort the task among occurrences long past. An occurrence the claim skipped
      // (misfire skip, overlap skip) starts no run, so it names no instant: a task whose claim started
      // none sorts at the latest occurrence of the runs it already had under way, read by the lookup
      // below. A claim that started runs reads no other run (that lookup is what it saves per task): a
      // "run now" of the same task under way for a later instant, or a left-out occurrence whose run
      // already ended, is not looked at; the key is still an instant of this task's runs, and the run's
      // end sets the completed task's key (taskCompletion.ts).
      const latestUnderWay = new Map<string, number>();
      for (const r of runRows) {
        if (r.status !== 'pending') continue;
        const at = latestUnderWay.get(r.task_id);
        const scheduledFor = Number(r.scheduled_for);
        if (at === undefined || scheduledFor > at)
          latestUnderWay.set(r.task_id, scheduledFor);
      }
      const ending = tasks
        .filter(
          t => plans.get(t.id)!.nextRunAt === null && !startsRun.has(t.id),
        )
        .map(t => t.id);
      for (const [taskId, at] of await occurrencesUnderWay(tx, ending)) {
        underWay.add(taskId);
        latestUnderWay.set(taskId, at);
      }
      const nextRuns: NextRun[] = [];
      const taskChanges: TaskChange[] = [];
      for (const task of tasks) {
        const nextRunAt = plans.get(task.id)!.nextRunAt;
        nextRuns.push({ taskId: task.id, nextRunAt });
        const runUnderWay = underWay.has(task.id);
        const sortAt = sortKeyAfterAdvance({
          nextRunAt,
          // Without a run under way the key is not read: any number will do.
          occurrenceAt: latestUnderWay.get(task.id) ?? Number(task.next_run_at),
          runUnderWay,
          nowMs,
        });
        const state = stateAfterAdvance(nextRunAt, runUnderWay);
        // A one-time task whose run starts keeps its state and its sort key (the occurrence): its row is
        // not written at all, only its next run deleted (nextRuns.ts says why).
        if (sortAt !== Number(task.sort_at) || state !== task.state) {
          taskChanges.push({ id: task.id, sortAt, state });
        }
      }
      const inserted = this.isPostgres
        ? await this.writeClaimPostgres(tx, {
            nextRuns,
            taskChanges,
            runRows,
            instanceId,
            claimToken,
            nowMs,
            leaseExpiresAt: horizonMs + leaseMs,
            existingRuns,
          })
        : await this.writeClaimSqlite(tx, { nextRuns, taskChanges, runRows });
      // A pending run the occurrence key left out (its occurrence already had a run, e.g. a "run now" at
      // that instant) started nothing: its task, written as having a run under way, completes now if
      // none is (rare: one lookup for those only).
      const leftOut = runRows
        .filter(
          r =>
            r.status === 'pending' &&
            !inserted.has(r.id) &&
            plans.get(r.task_id)!.nextRunAt === null,
        )
        .map(r => r.task_id);
      await completeEndedTasks(tx, leftOut, nowMs);
      const claimed = runRows
        .filter(r => r.status === 'pending' && inserted.has(r.id))
        .map(r => {
          const task = taskById.get(r.task_id)!;
          return toClaimed({
            id: r.id,
            task_id: r.task_id,
            scheduled_for: r.scheduled_for,
            attempt: 0,
            instrument_ref: task.instrument_ref,
            slot: null,
            publish_failures: 0,
            claimed_by: null,
            claim_token: claimToken,
            name: task.name,
            owner: task.owner,
            measurement_type: task.measurement_type,
            measurement_parameters: task.measurement_parameters,
            instrument_concurrency: task.instrument_concurrency,
          });
        });
      return {
        runs: claimed,
        tasksClaimed: tasks.length,
        skipped,
        more: tasks.length === batchSize,
      };
    });
  }

  /**
   * PostgreSQL: inserts the runs, moves or deletes the next runs and writes the task rows that change, in
   * one statement, one array per column (a 500-row VALUES list would cost thousands of bind parameters to
   * send, parse and plan).
   *
   * An occurrence that already has a row (e.g. a "run now" at the same instant) keeps it. The fast path
   * leaves it out (a probe of the occurrence key) and inserts plainly: ON CONFLICT makes every row a
   * speculative insertion, with one more WAL record and heap page write per run to confirm it (measured
   * in docs/benchmark.md), for a conflict that almost never happens. A row committed after the statement's
   * snapshot still fails the unique key; claimDueTasks then claims again with ON CONFLICT.
   */
  private async writeClaimPostgres(
    tx: Knex.Transaction,
    claim: ClaimWrites & {
      instanceId: string;
      claimToken: string;
      nowMs: number;
      leaseExpiresAt: number;
      existingRuns: ExistingRuns;
    },
  ): Promise<Set<string>> {
    const { nextRuns, taskChanges, runRows } = claim;
    const column = <K extends keyof NewRunRow>(key: K) =>
      runRows.map(r => r[key]);
    const moved = nextRuns.filter(n => n.nextRunAt !== null);
    const keepExisting =
      claim.existingRuns === 'on-conflict'
        ? 'on conflict (task_id, scheduled_for) do nothing'
        : // A scalar subquery, not NOT EXISTS: the planner turns NOT EXISTS into a hash anti-join over a
          // sequential scan of every run (chosen for a few hundred rows against tens of thousands,
          // and re-run by every claim), where this stays one probe of the occurrence key per run.
          `where (select 1 from ${RUNS} x
             where x.task_id = r.task_id and x.scheduled_for = r.scheduled_for) is null`;
    // What is the same for the whole batch travels once, as a scalar.
    const { rows } = await tx.raw(
      `with inserted as (
         insert into ${RUNS} (id, task_id, instrument_ref, scheduled_for, status, attempt, claimed_by,
           claim_token, claimed_at, lease_expires_at, finished_at, error, created_at)
         select r.id, r.task_id, r.instrument_ref, r.scheduled_for, r.status, 0,
           case when r.status = 'pending' then ?::text end,
           case when r.status = 'pending' then ?::text end,
           case when r.status = 'pending' then ?::bigint end,
           case when r.status = 'pending' then ?::bigint end,
           case when r.status = 'pending' then null else ?::bigint end,
           r.error, ?::bigint
         from unnest(?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[])
           as r(id, task_id, instrument_ref, scheduled_for, status, error)
         ${keepExisting}
         returning id, task_id, status
       ), moved as (
         update ${NEXT_RUNS} n set next_run_at = m.next_run_at
         from unnest(?::text[], ?::bigint[]) as m(task_id, next_run_at)
         where n.task_id = m.task_id
       ), ended as (
         delete from ${NEXT_RUNS} n where n.task_id = any(?::text[])
       ), changed as (
         update ${TASKS} t set sort_at = c.sort_at, state = c.state
         from unnest(?::text[], ?::bigint[], ?::text[]) as c(id, sort_at, state)
         where t.id = c.id
       )
       select id from inserted`,
      [
        claim.instanceId,
        claim.claimToken,
        claim.nowMs,
        claim.leaseExpiresAt,
        claim.nowMs,
        claim.nowMs,
        column('id'),
        column('task_id'),
        column('instrument_ref'),
        column('scheduled_for'),
        column('status'),
        column('error'),
        moved.map(n => n.taskId),
        moved.map(n => n.nextRunAt),
        nextRuns.filter(n => n.nextRunAt === null).map(n => n.taskId),
        taskChanges.map(c => c.id),
        taskChanges.map(c => c.sortAt),
        taskChanges.map(c => c.state),
        // pg sends JS arrays as PostgreSQL arrays (nulls included); knex's typings do not know it.
      ] as unknown as readonly Knex.RawBinding[],
    );
    return new Set(rows.map((r: { id: string }) => r.id));
  }

  /**
   * SQLite (one writer at a time): a multi-row INSERT, the next runs, then UPDATE … FROM a VALUES list.
   */
  private async writeClaimSqlite(
    tx: Knex.Transaction,
    { nextRuns, taskChanges, runRows }: ClaimWrites,
  ): Promise<Set<string>> {
    const inserted = new Set<string>();
    // Chunks keep the bind parameters under SQLite's limit: 13 per run, 3 per task.
    await forEachChunk(runRows, 500, async chunk => {
      const rows: { id: string }[] = await tx(RUNS)
        .insert(chunk)
        .onConflict(['task_id', 'scheduled_for'])
        .ignore()
        .returning('id');
      rows.forEach(r => inserted.add(typeof r === 'string' ? r : r.id));
    });
    await writeNextRuns(tx, nextRuns);
    await forEachChunk(taskChanges, 1000, chunk =>
      tx.raw(
        `with c(id, sort_at, state) as (
           values ${chunk.map(() => '(?, cast(? as bigint), ?)').join(', ')}
         )
         update ${TASKS} set sort_at = c.sort_at, state = c.state
         from c where ${TASKS}.id = c.id`,
        chunk.flatMap(c => [c.id, c.sortAt, c.state]),
      ),
    );
    return inserted;
  }

  /**
   * Claims pending runs that nobody holds: created by "run now", left behind by a replica that died
   * (lease expired), or waiting for a publish retry or an instrument slot.
   */
  async claimPendingRuns(options: {
    instanceId: string;
    nowMs: number;
    batchSize: number;
    leaseMs: number;
  }): Promise<ClaimResult> {
    const { instanceId, nowMs, batchSize, leaseMs } = options;
    const claimToken = newClaimToken();
    return this.knex.transaction(async tx => {
      const rows: { id: string; claimed_by: string | null }[] = await this.lock(
        tx(RUNS)
          .select('id', 'claimed_by')
          .where('status', 'pending')
          // Matches the partial expression index: an ordered range scan that stops at the batch size
          // (and skips index entries of runs published since).
          .whereRaw(`${CLAIMABLE_AT} <= ?`, [nowMs])
          .where('scheduled_for', '<=', nowMs)
          .orderByRaw(CLAIMABLE_AT)
          .limit(batchSize),
      );
      if (rows.length === 0)
        return { runs: [], tasksClaimed: 0, skipped: 0, more: false };
      const previous = new Map(rows.map(r => [r.id, r.claimed_by]));
      const ids = rows.map(r => r.id);
      // One bound parameter per run, and the four values.
      await forEachChunk(ids, 500, chunk =>
        tx(RUNS)
          .whereIn('id', chunk)
          .update({
            claimed_by: instanceId,
            claim_token: claimToken,
            claimed_at: tx.raw('coalesce(claimed_at, ?)', [nowMs]),
            lease_expires_at: nowMs + leaseMs,
          }),
      );
      const claimed = await this.selectClaimRows(tx, ids, instanceId);
      for (const run of claimed)
        run.previousClaimant = previous.get(run.id) ?? null;
      return {
        runs: claimed,
        tasksClaimed: 0,
        skipped: 0,
        more: rows.length === batchSize,
      };
    });
  }

  private async selectClaimRows(
    db: Knex | Knex.Transaction,
    ids: string[],
    instanceId: string,
  ): Promise<ClaimedRun[]> {
    const result: ClaimedRun[] = [];
    // One bound parameter per run.
    await forEachChunk(ids, 500, async chunk => {
      const rows: ClaimRow[] = await db(`${RUNS} as r`)
        .join(`${TASKS} as t`, 't.id', 'r.task_id')
        .select(...CLAIM_ROW_COLUMNS)
        .whereIn('r.id', chunk)
        .where('r.status', 'pending')
        .where('r.claimed_by', instanceId);
      result.push(...rows.map(toClaimed));
    });
    return result.sort((a, b) => a.scheduledFor - b.scheduledFor);
  }

  /**
   * Gives each run that needs one a free slot of its instrument, first run first (the unique index on
   * instrument_ref + slot makes two runs holding the same slot impossible); the others wait. Each
   * instrument's held slots are read once and a run only tries slots seen free, so a run costs one
   * write. (Trying slots 0, 1, 2… per run cost a refused write per held slot: an outage's backlog of
   * a few hundred runs on instruments with a large capacity took 16-32 s to get its slots.)
   */
  async acquireSlots(
    runs: ClaimedRun[],
  ): Promise<{ ready: ClaimedRun[]; waiting: ClaimedRun[] }> {
    const ready: ClaimedRun[] = [];
    const waiting: ClaimedRun[] = [];
    const slots = new Map<string, InstrumentSlots>();
    for (const run of runs) {
      if (run.instrumentConcurrency === null || run.slot !== null) {
        ready.push(run);
        continue;
      }
      let instrument = slots.get(run.instrumentRef);
      if (!instrument) {
        instrument = { taken: await this.heldSlots(run.instrumentRef) };
        slots.set(run.instrumentRef, instrument);
      }
      let outcome = await this.takeFreeSlot(run, instrument.taken);
      if (outcome === 'full' && !instrument.reread) {
        // Runs may have ended since the read: look once more before making the rest wait.
        instrument.taken = await this.heldSlots(run.instrumentRef);
        instrument.reread = true;
        outcome = await this.takeFreeSlot(run, instrument.taken);
      }
      if (outcome === 'taken') ready.push(run);
      else if (outcome === 'full') waiting.push(run);
    }
    return { ready, waiting };
  }

  private async heldSlots(instrumentRef: string): Promise<Set<number>> {
    const rows: { slot: number | string }[] = await this.knex(RUNS)
      .select('slot')
      .where('instrument_ref', instrumentRef)
      .whereNotNull('slot');
    return new Set(rows.map(r => Number(r.slot)));
  }

  /** 'lost': the run is no longer ours (superseded claim); it is neither ready nor waiting. */
  private async takeFreeSlot(
    run: ClaimedRun,
    taken: Set<number>,
  ): Promise<'taken' | 'full' | 'lost'> {
    const capacity = run.instrumentConcurrency ?? 0;
    for (let slot = 0; slot < capacity && taken.size < capacity; slot++) {
      if (taken.has(slot)) continue;
      try {
        const updated = await this.knex(RUNS)
          .where({ id: run.id, status: 'pending', claim_token: run.claimToken })
          .whereNull('slot')
          .update({ slot, instrument_ref: run.instrumentRef });
        if (updated !== 1) return 'lost';
        run.slot = slot;
        taken.add(slot);
        return 'taken';
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        // Another replica took it since the read.
        taken.add(slot);
      }
    }
    return 'full';
  }

  /**
   * Releases claimed runs, still pending, for another attempt by any instance no earlier than
   * `retryAtMs`: a publish that failed (`error` given: counted for the backoff) or an instrument that
   * is busy. Released runs have no claimant, so that taking one up later is not mistaken for recovering
   * a dead replica's claim.
   */
  async deferRuns(
    runs: { id: string; claimToken: string }[],
    retryAtMs: number,
    error?: string,
  ): Promise<void> {
    const update: Record<string, unknown> = {
      lease_expires_at: retryAtMs,
      claimed_by: null,
    };
    if (error !== undefined) {
      update.error = error.slice(0, 2000);
      update.publish_failures = this.knex.raw('publish_failures + 1');
    }
    // Under our claim only: a replica whose lease ran out must not release a run another one holds.
    const byToken = new Map<string, string[]>();
    for (const run of runs) {
      const ids = byToken.get(run.claimToken) ?? [];
      ids.push(run.id);
      byToken.set(run.claimToken, ids);
    }
    for (const [claimToken, ids] of byToken) {
      // One bound parameter per run.
      await forEachChunk(ids, 500, chunk =>
        this.knex(RUNS)
          .whereIn('id', chunk)
          .where({ status: 'pending', claim_token: claimToken })
          .update(update),
      );
    }
  }

  /**
   * Records successful publishes, each with its own time, in one statement: only under the claim that
   * published (a superseded claim records nothing), and only for runs still pending (the executor may
   * have started the run already; its start recorded the publish).
   */
  async markPublished(
    entries: { id: string; claimToken: string; publishedAt: number }[],
  ): Promise<void> {
    if (entries.length === 0) return;
    const set = `status = 'queued', published_at = v.published_at, attempt = attempt + 1,
      lease_expires_at = null, error = null`;
    const where = `${RUNS}.id = v.id and ${RUNS}.claim_token = v.claim_token
      and ${RUNS}.status = 'pending'`;
    if (this.isPostgres) {
      await this.knex.raw(
        `update ${RUNS} set ${set}
         from unnest(?::text[], ?::text[], ?::bigint[]) as v(id, claim_token, published_at)
         where ${where}`,
        [
          entries.map(e => e.id),
          entries.map(e => e.claimToken),
          entries.map(e => e.publishedAt),
        ] as unknown as readonly Knex.RawBinding[],
      );
      return;
    }
    // SQLite: three bound parameters per run.
    await forEachChunk(entries, 300, chunk =>
      this.knex.raw(
        `with v(id, claim_token, published_at) as (
           values ${chunk.map(() => '(?, ?, cast(? as bigint))').join(', ')}
         )
         update ${RUNS} set ${set} from v where ${where}`,
        chunk.flatMap(e => [e.id, e.claimToken, e.publishedAt]),
      ),
    );
  }

  /**
   * Fails runs whose message the queue refused for good (e.g. content it does not accept): retrying
   * would hold the instrument's slot for ever, so the run ends with the reason and frees its slot.
   */
  async failUnpublishable(
    entries: { id: string; claimToken: string; error: string }[],
    nowMs: number,
  ): Promise<number> {
    if (entries.length === 0) return 0;
    // The run ends: its task may complete (taskCompletion.ts), so the task is locked first.
    return this.knex.transaction(async tx => {
      await lockTasksOfRuns(
        tx,
        entries.map(e => e.id),
      );
      let failed = 0;
      const ended: string[] = [];
      for (const entry of entries) {
        const rows: Pick<RunRow, 'task_id'>[] = await tx(RUNS)
          .where({
            id: entry.id,
            claim_token: entry.claimToken,
            status: 'pending',
          })
          .update({
            status: 'failed',
            finished_at: nowMs,
            error: entry.error.slice(0, 2000),
            slot: null,
            claimed_by: null,
            lease_expires_at: null,
          })
          .returning('task_id');
        failed += rows.length;
        ended.push(...rows.map(r => r.task_id));
      }
      await completeEndedTasks(tx, ended, nowMs);
      return failed;
    });
  }

  /**
   * Runs `queued` since before `queuedBeforeMs` (published, or back from a retried attempt, and not
   * started since), with the message that delivers each again under its current claim: for an in-process
   * queue, whose messages die with their process. Each is marked published at `nowMs`, so it is handed
   * on once per lost-run timeout, not at every call. A copy of a message still held somewhere is
   * harmless: the executor's start applies once, to a queued run under its claim (RunStateStore.start).
   */
  async takeLostQueuedRuns(options: {
    queuedBeforeMs: number;
    nowMs: number;
    batchSize: number;
  }): Promise<RunMessage[]> {
    const { queuedBeforeMs, nowMs, batchSize } = options;
    return this.knex.transaction(async tx => {
      const lost = (q: Knex.QueryBuilder, prefix: string) =>
        whereQueuedBefore(q, queuedBeforeMs, prefix)
          .whereNotNull(`${prefix}claim_token`)
          .where(r =>
            r
              .whereNull(`${prefix}started_at`)
              .orWhere(`${prefix}started_at`, '<', queuedBeforeMs),
          );
      const query = lost(
        tx(`${RUNS} as r`)
          .join(`${TASKS} as t`, 't.id', 'r.task_id')
          .select(...CLAIM_ROW_COLUMNS)
          .orderBy('r.scheduled_for', 'asc')
          .limit(batchSize),
        'r.',
      );
      // The runs only (not their tasks, which claims and the ends of runs lock); another replica taking
      // lost runs at the same time takes others.
      const rows: ClaimRow[] = await (this.isPostgres
        ? query.forNoKeyUpdate('r').skipLocked()
        : query);
      if (rows.length === 0) return [];
      // One bound parameter per run.
      await forEachChunk(
        rows.map(r => r.id),
        500,
        chunk =>
          lost(tx(RUNS).whereIn('id', chunk), '').update({
            published_at: nowMs,
          }),
      );
      return rows.map(row => toClaimed(row).message);
    });
  }

  /**
   * After the queue came back from an outage: runs waiting out a publish backoff become claimable now
   * (by any instance) instead of at the end of their backoff.
   */
  async retryDeferredPublishesNow(nowMs: number): Promise<number> {
    return this.knex(RUNS)
      .where('status', 'pending')
      .where('publish_failures', '>', 0)
      .whereNull('claimed_by')
      .where('lease_expires_at', '>', nowMs)
      .update({ lease_expires_at: nowMs });
  }

  /** On shutdown: hands this instance's unpublished claims to the others at once. */
  async releaseClaims(instanceId: string, nowMs: number): Promise<number> {
    return this.knex(RUNS)
      .where({ status: 'pending', claimed_by: instanceId })
      .where('lease_expires_at', '>', nowMs)
      .update({ lease_expires_at: nowMs, claimed_by: null });
  }

  /**
   * When something next becomes due, in one round trip: the earliest task occurrence, and the earliest
   * pending run (0 when a pending run has no lease, e.g. "run now").
   */
  async nextDueAt(): Promise<{ taskAt: number | null; runAt: number | null }> {
    const [row] = await this.knex.select(
      this.knex(NEXT_RUNS).min('next_run_at').as('task_at'),
      this.knex(RUNS)
        .select(this.knex.raw(`min(${CLAIMABLE_AT})`))
        .where('status', 'pending')
        .as('run_at'),
    );
    return {
      taskAt: numberOrNull(row.task_at),
      runAt: numberOrNull(row.run_at),
    };
  }

  /** Occurrences and runs due but not yet published: the dispatcher's backlog. */
  async dueBacklog(nowMs: number): Promise<number> {
    const [tasks] = await this.knex(NEXT_RUNS)
      .count({ n: '*' })
      .where('next_run_at', '<=', nowMs);
    const [runs] = await this.knex(RUNS)
      .count({ n: '*' })
      .where('status', 'pending')
      .where('scheduled_for', '<=', nowMs);
    return Number(tasks?.n ?? 0) + Number(runs?.n ?? 0);
  }
}
