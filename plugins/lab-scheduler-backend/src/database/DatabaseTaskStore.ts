import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { ConflictError, NotFoundError } from '@backstage/errors';
import type {
  AuditAction,
  AuditEntry,
  Run,
  RunStatus,
  Task,
  TaskPolicies,
  TaskSchedule,
  TaskState,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { runOutcome } from '@lab-scheduler/plugin-lab-scheduler-common';
import { randomUUID } from 'node:crypto';
import { completedSortKey, NEVER_SORT_AT, sortKey } from '../tasks/lifecycle';
import { newClaimToken, timeOrderedUuid } from './ids';
import { Knex } from 'knex';
import {
  ListTasksOptions,
  TaskListFilters,
  PageOptions,
  PageResult,
  TaskFields,
  TaskFilter,
  TaskStore,
} from './TaskStore';

const TASKS = 'lab_scheduler_tasks';
const RUNS = 'lab_scheduler_runs';
const AUDIT = 'lab_scheduler_audit';
const TASK_SEARCH = 'lab_scheduler_task_search';

/** A task has at most one manual run in these statuses (index lab_scheduler_runs_manual_uniq). */
const MANUAL_RUN_ACTIVE_STATUSES = ['pending', 'queued', 'running'];

function manualRunConflict(taskId: string, run: RunRow | undefined) {
  return new ConflictError(
    `Task ${taskId} already has a manual run waiting or in progress${
      run ? ` (run ${run.id}, ${run.status})` : ''
    }; trigger it again when that run has finished`,
  );
}

/** The partial unique index on manual runs refused an insert (PostgreSQL or SQLite wording). */
function isManualRunLimitViolation(error: any): boolean {
  if (error?.code === '23505')
    return error.constraint === 'lab_scheduler_runs_manual_uniq';
  return (
    typeof error?.code === 'string' &&
    error.code.startsWith('SQLITE_CONSTRAINT') &&
    /UNIQUE constraint failed: lab_scheduler_runs\.task_id$/.test(
      String(error.message),
    )
  );
}

export const migrationsDir = resolvePackagePath(
  '@lab-scheduler/plugin-lab-scheduler-backend',
  'migrations',
);

/** Applies the plugin's migrations. */
export async function applyDatabaseMigrations(knex: Knex): Promise<void> {
  await knex.migrate.latest({
    directory: migrationsDir,
    tableName: 'lab_scheduler_knex_migrations',
  });
}

type TaskRow = {
  id: string;
  name: string;
  description: string;
  instrument_ref: string;
  owner: string;
  measurement_type: string;
  measurement_parameters: string;
  schedule_type: string;
  schedule: string;
  state: string;
  next_run_at: string | number | null;
  sort_at: string | number;
  version: number;
  created_at: string | number;
  created_by: string;
  updated_at: string | number;
  updated_by: string;
  deleted_at: string | number | null;
  misfire_policy: string;
  misfire_window_seconds: number;
  overlap_policy: string;
  notify_policy?: string;
  instrument_concurrency: number | null;
};

type RunRow = {
  id: string;
  task_id: string;
  scheduled_for: string | number;
  status: string;
  attempt: number;
  claimed_at: string | number | null;
  published_at: string | number | null;
  started_at: string | number | null;
  finished_at: string | number | null;
  result: string | null;
  error: string | null;
  triggered_by?: string | null;
};

type AuditRow = {
  seq: string | number;
  task_id: string;
  at: string | number;
  actor: string;
  action: string;
  before: string | null;
  after: string | null;
};

/** BIGINT columns come back as strings from pg and numbers from SQLite. */
function ms(value: string | number | null | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function iso(value: string | number | null | undefined): string | null {
  const n = ms(value);
  return n === null ? null : new Date(n).toISOString();
}

export function runFromRow(row: RunRow): Run {
  const run: Run = {
    id: row.id,
    taskId: row.task_id,
    scheduledFor: iso(row.scheduled_for)!,
    status: row.status as RunStatus,
    attempt: Number(row.attempt),
    claimedAt: iso(row.claimed_at),
    publishedAt: iso(row.published_at),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    result: row.result ? JSON.parse(row.result) : null,
    error: row.error,
  };
  return { ...run, outcome: runOutcome(run) };
}

function taskFromRow(row: TaskRow, lastRun: Run | null): Task {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    instrumentRef: row.instrument_ref,
    owner: row.owner,
    measurement: {
      type: row.measurement_type,
      parameters: JSON.parse(row.measurement_parameters),
    },
    schedule: JSON.parse(row.schedule) as TaskSchedule,
    policies: {
      misfire: row.misfire_policy as TaskPolicies['misfire'],
      misfireWindowSeconds: Number(row.misfire_window_seconds),
      overlap: row.overlap_policy as TaskPolicies['overlap'],
      notify: (row.notify_policy ?? 'failures') as TaskPolicies['notify'],
      instrumentConcurrency:
        row.instrument_concurrency === null
          ? null
          : Number(row.instrument_concurrency),
    },
    state: row.state as TaskState,
    nextRunAt: iso(row.next_run_at),
    version: Number(row.version),
    createdAt: iso(row.created_at)!,
    createdBy: row.created_by,
    updatedAt: iso(row.updated_at)!,
    updatedBy: row.updated_by,
    lastRun,
  };
}

/** The row's columns for these fields, as changed at `nowMs` (a task completed now sorts by it). */
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
    row.next_run_at = fields.nextRunAt;
    row.sort_at =
      fields.state === 'completed'
        ? completedSortKey(nowMs)
        : sortKey(fields.nextRunAt);
  }
  return row;
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
  static async create(options: {
    database: DatabaseService;
    skipMigrations?: boolean;
  }): Promise<DatabaseTaskStore> {
    const knex = await options.database.getClient();
    if (!options.skipMigrations && !options.database.migrations?.skip) {
      await applyDatabaseMigrations(knex);
    }
    return new DatabaseTaskStore(knex);
  }

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
      const task = await this.readTask(tx, id);
      await this.appendAudit(tx, id, nowMs, actor, 'create', null, task!);
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
    const [task] = await this.withLastRuns(this.knex, [row]);
    return { task, deleted: row.deleted_at !== null };
  }

  async getTasks(ids: string[]): Promise<Task[]> {
    if (ids.length === 0) return [];
    const rows: TaskRow[] = await this.knex(TASKS)
      .whereIn('id', ids)
      .whereNull('deleted_at');
    return this.withLastRuns(this.knex, rows);
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
    const query = this.matchingTasks(options);
    if (options.after) {
      // A row comparison: one index range condition on (…, sort_at, id), where the OR form is a filter.
      const { k, id } = options.after;
      query.whereRaw('(sort_at, id) > (?, ?)', [k, id]);
    }
    const rows: TaskRow[] = await query
      .orderBy([
        { column: 'sort_at', order: 'asc' },
        { column: 'id', order: 'asc' },
      ])
      .limit(options.limit + 1);
    const hasMore = rows.length > options.limit;
    const pageRows = hasMore ? rows.slice(0, options.limit) : rows;
    const items = await this.withLastRuns(this.knex, pageRows);
    const last = pageRows[pageRows.length - 1];
    return {
      items,
      next:
        hasMore && last ? { k: Number(last.sort_at), id: last.id } : undefined,
    };
  }

  async updateTask(
    id: string,
    expectedVersion: number | undefined,
    fields: Partial<TaskFields>,
    actor: string,
    action: AuditAction,
    nowMs: number,
  ): Promise<Task> {
    return this.knex.transaction(async tx => {
      const before = await this.changeAtVersion(
        tx,
        id,
        expectedVersion,
        nowMs,
        actor,
        fieldsToRow(fields, nowMs),
      );
      const after = await this.readTask(tx, id);
      await this.appendAudit(tx, id, nowMs, actor, action, before, after!);
      return after!;
    });
  }

  async deleteTask(
    id: string,
    expectedVersion: number | undefined,
    actor: string,
    nowMs: number,
  ): Promise<void> {
    await this.knex.transaction(async tx => {
      // Soft delete: runs and the audit trail stay for traceability.
      const before = await this.changeAtVersion(
        tx,
        id,
        expectedVersion,
        nowMs,
        actor,
        {
          deleted_at: nowMs,
          next_run_at: null,
          sort_at: NEVER_SORT_AT,
        },
      );
      await tx(RUNS).where({ task_id: id, status: 'pending' }).update({
        status: 'cancelled',
        finished_at: nowMs,
        slot: null,
        lease_expires_at: null,
      });
      await this.appendAudit(tx, id, nowMs, actor, 'delete', before, null);
    });
  }

  async triggerRun(taskId: string, actor: string, nowMs: number): Promise<Run> {
    try {
      return await this.knex.transaction(async tx => {
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
    return db(RUNS)
      .where('task_id', taskId)
      .whereNotNull('triggered_by')
      .whereIn('status', MANUAL_RUN_ACTIVE_STATUSES)
      .first();
  }

  async listRuns(taskId: string, page: PageOptions): Promise<PageResult<Run>> {
    // Newest first: a run history is read from the latest occurrence backwards.
    // A task has one run per scheduled instant (lab_scheduler_runs_occurrence_uniq), so the instant alone
    // orders its runs: one backwards range scan of that index, no sort (the cursor still carries the id).
    const query = this.knex<RunRow>(RUNS).where('task_id', taskId);
    if (page.after) query.where('scheduled_for', '<', page.after.k);
    const rows: RunRow[] = await query
      .orderBy('scheduled_for', 'desc')
      .limit(page.limit + 1);
    const hasMore = rows.length > page.limit;
    const pageRows = hasMore ? rows.slice(0, page.limit) : rows;
    const last = pageRows[pageRows.length - 1];
    return {
      items: pageRows.map(runFromRow),
      next:
        hasMore && last
          ? { k: Number(last.scheduled_for), id: last.id }
          : undefined,
    };
  }

  async getRun(id: string): Promise<Run | undefined> {
    const row: RunRow | undefined = await this.knex(RUNS).where({ id }).first();
    return row ? runFromRow(row) : undefined;
  }

  async listAudit(
    taskId: string,
    page: PageOptions,
  ): Promise<PageResult<AuditEntry>> {
    const query = this.knex<AuditRow>(AUDIT).where('task_id', taskId);
    if (page.after) query.where('seq', '>', page.after.k);
    const rows: AuditRow[] = await query
      .orderBy('seq', 'asc')
      .limit(page.limit + 1);
    const hasMore = rows.length > page.limit;
    const pageRows = hasMore ? rows.slice(0, page.limit) : rows;
    const last = pageRows[pageRows.length - 1];
    return {
      items: pageRows.map(row => ({
        at: iso(row.at)!,
        actor: row.actor,
        action: row.action as AuditAction,
        before: row.before ? JSON.parse(row.before) : null,
        after: row.after ? JSON.parse(row.after) : null,
      })),
      next:
        hasMore && last
          ? { k: Number(last.seq), id: String(last.seq) }
          : undefined,
    };
  }

  /**
   * Applies `row` to the task if it is still at `expectedVersion` (or at any version when absent), bumping
   * the version; returns the task as it was. NotFoundError / ConflictError otherwise.
   */
  private async changeAtVersion(
    tx: Knex.Transaction,
    id: string,
    expectedVersion: number | undefined,
    nowMs: number,
    actor: string,
    row: Partial<TaskRow>,
  ): Promise<Task> {
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
    const [task] = await this.withLastRuns(db, [row]);
    return task;
  }

  /** Attaches each task's latest run (by scheduled time) in one query for the whole page. */
  private async withLastRuns(
    db: Knex | Knex.Transaction,
    rows: TaskRow[],
  ): Promise<Task[]> {
    if (rows.length === 0) return [];
    const ids = rows.map(r => r.id);
    // One backwards probe of (task_id, scheduled_for) per task: comparing every run of the page's tasks
    // with its task's latest cost ~14 ms a page at 1,000 runs a task (npm run bench:api).
    const runRows: RunRow[] = await db(RUNS).whereIn('id', latest =>
      latest
        .from(`${TASKS} as t`)
        .whereIn('t.id', ids)
        .select(
          db.raw(
            `(select r.id from ${RUNS} r where r.task_id = t.id order by r.scheduled_for desc limit 1)`,
          ),
        ),
    );
    const byTask = new Map(runRows.map(r => [r.task_id, runFromRow(r)]));
    return rows.map(row => taskFromRow(row, byTask.get(row.id) ?? null));
  }

  private async appendAudit(
    tx: Knex.Transaction,
    taskId: string,
    at: number,
    actor: string,
    action: AuditAction,
    before: Task | null,
    after: Task | null,
  ): Promise<void> {
    await tx(AUDIT).insert({
      task_id: taskId,
      at,
      actor,
      action,
      before: snapshot(before),
      after: snapshot(after),
    });
  }
}
