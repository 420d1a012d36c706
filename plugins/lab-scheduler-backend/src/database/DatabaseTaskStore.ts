import { ConflictError, NotFoundError } from '@backstage/errors';
import type {
  AuditAction,
  AuditEntry,
  Run,
  Task,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { randomUUID } from 'node:crypto';
import {
  completedSortKey,
  NEVER_SORT_AT,
  sortKey,
  sortKeyAfterAdvance,
} from '../tasks/lifecycle';
import { newClaimToken, timeOrderedUuid } from './ids';
import { keysetPage, KeysetOrder, PageOptions, PageResult } from './keyset';
import { auditEntryFromRow, runFromRow, taskFromRow } from './rows';
import { NextRun, readNextRuns, writeNextRuns } from './nextRuns';
import { lockTasks, occurrencesUnderWay } from './taskCompletion';
import {
  ACTIVE_RUN_STATUSES,
  AUDIT,
  AuditRow,
  RUN_MANUAL_KEY,
  RunRow,
  RUNS,
  TASK_SEARCH,
  TaskRow,
  TASKS,
} from './tables';
import { Knex } from 'knex';
import {
  ListTasksOptions,
  TaskChangeOptions,
  TaskListFilters,
  TaskFields,
  TaskFilter,
  TaskStore,
  UpdateTaskOptions,
} from './TaskStore';

/** The task list: next run first, tasks that will not run again last (sort_at), then by id. */
const TASK_LIST_ORDER: KeysetOrder<TaskRow> = {
  key: 'sort_at',
  id: 'id',
  direction: 'asc',
  positionOf: row => ({ k: Number(row.sort_at), id: row.id }),
};

/**
 * A task's runs, newest first: a run history is read from the latest occurrence backwards. A task has
 * one run per scheduled instant (RUN_OCCURRENCE_KEY), so the instant alone orders its runs: one backwards
 * range scan of that index, no sort (the cursor still carries the id).
 */
const RUN_HISTORY_ORDER: KeysetOrder<RunRow> = {
  key: 'scheduled_for',
  direction: 'desc',
  positionOf: row => ({ k: Number(row.scheduled_for), id: row.id }),
};

/** A task's audit trail, oldest first: the sequence number alone orders it. */
const AUDIT_ORDER: KeysetOrder<AuditRow> = {
  key: 'seq',
  direction: 'asc',
  positionOf: row => ({ k: Number(row.seq), id: String(row.seq) }),
};

function manualRunConflict(taskId: string, run: RunRow | undefined) {
  return new ConflictError(
    `Task ${taskId} already has a manual run waiting or in progress${
      run ? ` (run ${run.id}, ${run.status})` : ''
    }; trigger it again when that run has finished`,
  );
}

/** The partial unique index on manual runs refused an insert (PostgreSQL or SQLite wording). */
function isManualRunLimitViolation(error: any): boolean {
  if (error?.code === '23505') return error.constraint === RUN_MANUAL_KEY;
  // SQLite names the column, not the index: the only unique key on task_id alone is the manual one.
  return (
    typeof error?.code === 'string' &&
    error.code.startsWith('SQLITE_CONSTRAINT') &&
    String(error.message).endsWith(`UNIQUE constraint failed: ${RUNS}.task_id`)
  );
}

/**
 * The row's columns for these fields, as changed at `nowMs` (a task completed now sorts by it). The next
 * run itself is not a column: it goes to NEXT_RUNS (nextRunChange).
 */
function fieldsToRow(
  fields: Partial<TaskFields>,
  nowMs: number,
): Partial<TaskRow> {
  const row: Partial<TaskRow> = {};
  if (fields.name !== undefined) row.name = fields.name;
  if (fields.description !== undefined) row.description = fields.description;
  if (fields.instrumentRef !== undefined)
    row.instrument_ref = fields.instrumentRef;
  if (fields.owner !== undefined) row.owner = fields.owner;
  if (fields.measurement !== undefined) {
    row.measurement_type = fields.measurement.type;
    row.measurement_parameters = JSON.stringify(fields.measurement.parameters);
  }
  if (fields.schedule !== undefined) {
    row.schedule_type = fields.schedule.type;
    row.schedule = JSON.stringify(fields.schedule);
  }
  if (fields.policies !== undefined) {
    row.misfire_policy = fields.policies.misfire;
    row.misfire_window_seconds = fields.policies.misfireWindowSeconds;
    row.overlap_policy = fields.policies.overlap;
    if (fields.policies.notify !== undefined)
      row.notify_policy = fields.policies.notify;
    row.instrument_concurrency = fields.policies.instrumentConcurrency;
  }
  if (fields.state !== undefined) row.state = fields.state;
  if (fields.nextRunAt !== undefined) {
    row.sort_at =
      fields.state === 'completed'
        ? completedSortKey(nowMs)
        : sortKey(fields.nextRunAt);
  }
  return row;
}

/** The task's next run as these fields change it, or nothing when they leave it alone. */
function nextRunChange(taskId: string, fields: Partial<TaskFields>): NextRun[] {
  return fields.nextRunAt === undefined
    ? []
    : [{ taskId, nextRunAt: fields.nextRunAt }];
}

function snapshot(task: Task | null): string | null {
  if (!task) return null;
  const { lastRun: _lastRun, ...rest } = task;
  return JSON.stringify(rest);
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, c => `\\${c}`);
}

export function applyFilter(
  query: Knex.QueryBuilder,
  filter: TaskFilter,
): void {
  if ('property' in filter) {
    if (filter.values.length === 0) {
      query.whereRaw('1 = 0');
    } else {
      query.whereIn(filter.property, filter.values);
    }
  } else if ('anyOf' in filter) {
    query.where(q => {
      for (const f of filter.anyOf) q.orWhere(inner => applyFilter(inner, f));
    });
  } else if ('allOf' in filter) {
    query.where(q => {
      for (const f of filter.allOf) q.andWhere(inner => applyFilter(inner, f));
    });
  } else {
    query.whereNot(q => applyFilter(q, filter.not));
  }
}

/**
 * Case-insensitive substring match on name or description. PostgreSQL: the search side table and its
 * trigram index (migration 20261129020000); the document joins both fields with U+001F, which the text
 * filter refuses, so a match never spans them. SQLite: LIKE over the task rows.
 */
function applyTextFilter(
  query: Knex.QueryBuilder,
  text: string,
  isPostgres: boolean,
): void {
  const pattern = `%${escapeLike(text.toLocaleLowerCase('en-US'))}%`;
  if (isPostgres) {
    query.whereIn('id', search =>
      search
        .select('task_id')
        .from(TASK_SEARCH)
        .whereRaw(`document LIKE ? ESCAPE '\\'`, [pattern]),
    );
    return;
  }
  query.where(q =>
    q
      .whereRaw(`LOWER(name) LIKE ? ESCAPE '\\'`, [pattern])
      .orWhereRaw(`LOWER(description) LIKE ? ESCAPE '\\'`, [pattern]),
  );
}

/** Knex implementation of the TaskStore, on SQLite and PostgreSQL alike. */
export class DatabaseTaskStore implements TaskStore {
  private readonly isPostgres: boolean;

  constructor(readonly knex: Knex) {
    this.isPostgres = knex.client.config.client === 'pg';
  }

  async ping(): Promise<void> {
    await this.knex.raw('select 1');
  }

  async createTask(
    fields: TaskFields,
    actor: string,
    nowMs: number,
  ): Promise<Task> {
    const id = randomUUID();
    const row = {
      ...fieldsToRow(fields, nowMs),
      id,
      version: 1,
      created_at: nowMs,
      created_by: actor,
      updated_at: nowMs,
      updated_by: actor,
      deleted_at: null,
    };
    return this.knex.transaction(async tx => {
      await tx(TASKS).insert(row);
      await writeNextRuns(tx, nextRunChange(id, fields));
      const task = await this.readTask(tx, id);
      await this.appendAudit(tx, {
        taskId: id,
        at: nowMs,
        actor,
        action: 'create',
        before: null,
        after: task!,
      });
      return task!;
    });
  }

  async getTask(id: string): Promise<Task | undefined> {
    return this.readTask(this.knex, id);
  }

  async getTaskRecord(
    id: string,
  ): Promise<{ task: Task; deleted: boolean } | undefined> {
    const row: TaskRow | undefined = await this.knex(TASKS)
      .where({ id })
      .first();
    if (!row) return undefined;
    const [task] = await this.tasksFromRows(this.knex, [row]);
    return { task, deleted: row.deleted_at !== null };
  }

  async getTasks(ids: string[]): Promise<Task[]> {
    if (ids.length === 0) return [];
    const rows: TaskRow[] = await this.knex(TASKS)
      .whereIn('id', ids)
      .whereNull('deleted_at');
    return this.tasksFromRows(this.knex, rows);
  }

  /** Live tasks matching the list filters (no order, no page). */
  private matchingTasks(options: TaskListFilters) {
    const query = this.knex<TaskRow>(TASKS).whereNull('deleted_at');
    if (options.state) query.where('state', options.state);
    if (options.instrument) query.where('instrument_ref', options.instrument);
    if (options.owner) query.where('owner', options.owner);
    if (options.text) applyTextFilter(query, options.text, this.isPostgres);
    if (options.permissionFilter) applyFilter(query, options.permissionFilter);
    return query;
  }

  async countTasks(
    options: TaskListFilters,
    cap: number,
  ): Promise<{ count: number; capped: boolean }> {
    // Counting stops after cap + 1 rows: bounded work however many tasks match.
    const matching = this.matchingTasks(options)
      .select('id')
      .limit(cap + 1);
    const [row] = (await this.knex
      .count({ n: '*' })
      .from(matching.as('matching'))) as { n: string | number }[];
    const n = Number(row.n);
    return { count: Math.min(n, cap), capped: n > cap };
  }

  async listTasks(options: ListTasksOptions): Promise<PageResult<Task>> {
    const { rows, next } = await keysetPage(
      this.matchingTasks(options),
      TASK_LIST_ORDER,
      options,
    );
    return { items: await this.tasksFromRows(this.knex, rows), next };
  }

  async updateTask(options: UpdateTaskOptions): Promise<Task> {
    const { id, actor, nowMs, action } = options;
    return this.knex.transaction(async tx => {
      const row = fieldsToRow(options.fields, nowMs);
      if (options.fields.state === 'completed') {
        // No occurrence left: the task completes only once none of its runs is under way (lifecycle.ts);
        // while one is, it stays active and the run's end completes it (taskCompletion.ts). The task is
        // locked before its runs are read, as a run's end locks it before ending the run: whichever
        // comes second sees what the other committed.
        await lockTasks(tx, [id]);
        const occurrenceAt =
          (await occurrencesUnderWay(tx, [id])).get(id) ?? null;
        if (occurrenceAt !== null) {
          row.state = 'active';
          row.sort_at = sortKeyAfterAdvance({
            nextRunAt: null,
            occurrenceAt,
            runUnderWay: true,
            nowMs,
          });
        }
      }
      const before = await this.changeAtVersion(tx, options, row);
      await writeNextRuns(tx, nextRunChange(id, options.fields));
      const after = await this.readTask(tx, id);
      await this.appendAudit(tx, {
        taskId: id,
        at: nowMs,
        actor,
        action,
        before,
        after: after!,
      });
      return after!;
    });
  }

  async deleteTask(options: TaskChangeOptions): Promise<void> {
    const { id, actor, nowMs } = options;
    await this.knex.transaction(async tx => {
      // Soft delete: runs and the audit trail stay for traceability.
      const before = await this.changeAtVersion(tx, options, {
        deleted_at: nowMs,
        sort_at: NEVER_SORT_AT,
      });
      await writeNextRuns(tx, [{ taskId: id, nextRunAt: null }]);
      await tx(RUNS).where({ task_id: id, status: 'pending' }).update({
        status: 'cancelled',
        finished_at: nowMs,
        slot: null,
        lease_expires_at: null,
      });
      await this.appendAudit(tx, {
        taskId: id,
        at: nowMs,
        actor,
        action: 'delete',
        before,
        after: null,
      });
    });
  }

  async triggerRun(taskId: string, actor: string, nowMs: number): Promise<Run> {
    try {
      return await this.knex.transaction(async tx => {
        // The claim's lock (taskCompletion.ts): a claim that decides from the task's runs under way
        // whether the task completes either skips the task while this trigger holds it, or has committed
        // before this reads the task. Without it, a claim could complete the task while this run is
        // pending.
        await lockTasks(tx, [taskId]);
        const task = await this.readTask(tx, taskId);
        if (!task) throw new NotFoundError(`Task ${taskId} not found`);
        const active = await this.activeManualRun(tx, taskId);
        if (active) throw manualRunConflict(taskId, active);
        const id = timeOrderedUuid(nowMs);
        await tx(RUNS)
          .insert({
            id,
            task_id: taskId,
            instrument_ref: task.instrumentRef,
            scheduled_for: nowMs,
            status: 'pending',
            attempt: 0,
            created_at: nowMs,
            triggered_by: actor,
            // Never published: until a dispatcher claims the run (with a token of its own), no report
            // can match it, so nobody can start or finish the run without its message.
            claim_token: newClaimToken(),
          })
          .onConflict(['task_id', 'scheduled_for'])
          .ignore();
        const row: RunRow = await tx(RUNS)
          .where({ task_id: taskId, scheduled_for: nowMs })
          .first();
        // Another trigger won the same millisecond: the occurrence key absorbed this insert.
        if (row.id !== id && row.triggered_by) {
          throw manualRunConflict(taskId, row);
        }
        if (row.id === id && task.state === 'completed') {
          // A completed task has no run under way (lifecycle.ts): it is active again, at this run's
          // instant, until the run ends and completes it again (taskCompletion.ts).
          await tx(TASKS)
            .where({ id: taskId, state: 'completed' })
            .update({
              state: 'active',
              sort_at: sortKeyAfterAdvance({
                nextRunAt: null,
                occurrenceAt: nowMs,
                runUnderWay: true,
                nowMs,
              }),
            });
        }
        await tx(AUDIT).insert({
          task_id: taskId,
          at: nowMs,
          actor,
          action: 'trigger',
          before: null,
          after: JSON.stringify({
            runId: row.id,
            scheduledFor: new Date(nowMs).toISOString(),
          }),
        });
        return runFromRow(row);
      });
    } catch (error) {
      if (!isManualRunLimitViolation(error)) throw error;
      // A concurrent trigger committed between our check and our insert; the index refused ours.
      const active = await this.activeManualRun(this.knex, taskId);
      throw manualRunConflict(taskId, active);
    }
  }

  private async activeManualRun(
    db: Knex | Knex.Transaction,
    taskId: string,
  ): Promise<RunRow | undefined> {
    // A task has at most one manual run in these statuses (index RUN_MANUAL_KEY).
    return db(RUNS)
      .where('task_id', taskId)
      .whereNotNull('triggered_by')
      .whereIn('status', ACTIVE_RUN_STATUSES)
      .first();
  }

  async listRuns(taskId: string, page: PageOptions): Promise<PageResult<Run>> {
    const { rows, next } = await keysetPage(
      this.knex<RunRow>(RUNS).where('task_id', taskId),
      RUN_HISTORY_ORDER,
      page,
    );
    return { items: rows.map(runFromRow), next };
  }

  async getRun(id: string): Promise<Run | undefined> {
    const row: RunRow | undefined = await this.knex(RUNS).where({ id }).first();
    return row ? runFromRow(row) : undefined;
  }

  async listAudit(
    taskId: string,
    page: PageOptions,
  ): Promise<PageResult<AuditEntry>> {
    const { rows, next } = await keysetPage(
      this.knex<AuditRow>(AUDIT).where('task_id', taskId),
      AUDIT_ORDER,
      page,
    );
    return { items: rows.map(auditEntryFromRow), next };
  }

  /**
   * Applies `row` to the task if it is still at `expectedVersion` (or at any version when absent), bumping
   * the version; returns the task as it was. NotFoundError / ConflictError otherwise.
   */
  private async changeAtVersion(
    tx: Knex.Transaction,
    change: TaskChangeOptions,
    row: Partial<TaskRow>,
  ): Promise<Task> {
    const { id, expectedVersion, actor, nowMs } = change;
    const before = await this.readTask(tx, id);
    if (!before) throw new NotFoundError(`Task ${id} not found`);
    const version = expectedVersion ?? before.version;
    const updated = await tx(TASKS)
      .where({ id, version })
      .whereNull('deleted_at')
      .update({
        ...row,
        version: version + 1,
        updated_at: nowMs,
        updated_by: actor,
      });
    if (updated !== 1) {
      throw new ConflictError(
        `Task ${id} was changed by someone else: it is at version ${before.version}, not ${version}. Reload it and try again.`,
      );
    }
    return before;
  }

  private async readTask(
    db: Knex | Knex.Transaction,
    id: string,
  ): Promise<Task | undefined> {
    const row: TaskRow | undefined = await db(TASKS)
      .where({ id })
      .whereNull('deleted_at')
      .first();
    if (!row) return undefined;
    const [task] = await this.tasksFromRows(db, [row]);
    return task;
  }

  /** Attaches each task's next run and latest run (by scheduled time): two queries for the whole page. */
  private async tasksFromRows(
    db: Knex | Knex.Transaction,
    rows: TaskRow[],
  ): Promise<Task[]> {
    if (rows.length === 0) return [];
    const ids = rows.map(r => r.id);
    // One backwards probe of (task_id, scheduled_for) per task: comparing every run of the page's tasks
    // with its task's latest cost ~14 ms a page at 1,000 runs a task (npm run bench:api).
    // Side by side: outside a transaction each takes a connection of its own, so a page waits for the
    // slower of the two, not for both.
    const [runRows, nextRuns] = await Promise.all([
      db(RUNS).whereIn('id', latest =>
        latest
          .from(`${TASKS} as t`)
          .whereIn('t.id', ids)
          .select(
            db.raw(
              `(select r.id from ${RUNS} r where r.task_id = t.id order by r.scheduled_for desc limit 1)`,
            ),
          ),
      ) as Promise<RunRow[]>,
      readNextRuns(db, ids),
    ]);
    const byTask = new Map(runRows.map(r => [r.task_id, runFromRow(r)]));
    return rows.map(row =>
      taskFromRow(
        row,
        nextRuns.get(row.id) ?? null,
        byTask.get(row.id) ?? null,
      ),
    );
  }

  private async appendAudit(
    tx: Knex.Transaction,
    entry: {
      taskId: string;
      at: number;
      actor: string;
      action: AuditAction;
      before: Task | null;
      after: Task | null;
    },
  ): Promise<void> {
    await tx(AUDIT).insert({
      task_id: entry.taskId,
      at: entry.at,
      actor: entry.actor,
      action: entry.action,
      before: snapshot(entry.before),
      after: snapshot(entry.after),
    });
  }
}
