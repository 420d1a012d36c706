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
import type { AuditRow, RunRow, TaskRow } from './tables';

/** A number column that may be NULL; BIGINT columns come back as strings from pg and numbers from SQLite. */
export function numberOrNull(
  value: string | number | null | undefined,
): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** An epoch-milliseconds column as an ISO instant, or null. */
export function isoOrNull(
  value: string | number | null | undefined,
): string | null {
  const n = numberOrNull(value);
  return n === null ? null : new Date(n).toISOString();
}

/** The run columns the API's Run is made of. */
export type RunApiRow = Pick<
  RunRow,
  | 'id'
  | 'task_id'
  | 'scheduled_for'
  | 'status'
  | 'attempt'
  | 'claimed_at'
  | 'published_at'
  | 'started_at'
  | 'finished_at'
  | 'result'
  | 'error'
>;

export function runFromRow(row: RunApiRow): Run {
  const run: Run = {
    id: row.id,
    taskId: row.task_id,
    scheduledFor: isoOrNull(row.scheduled_for)!,
    status: row.status as RunStatus,
    attempt: Number(row.attempt),
    claimedAt: isoOrNull(row.claimed_at),
    publishedAt: isoOrNull(row.published_at),
    startedAt: isoOrNull(row.started_at),
    finishedAt: isoOrNull(row.finished_at),
    result: row.result ? JSON.parse(row.result) : null,
    error: row.error,
  };
  return { ...run, outcome: runOutcome(run) };
}

/** A task from its row, its next run (NEXT_RUNS; null when it has none) and its latest run. */
export function taskFromRow(
  row: TaskRow,
  nextRunAt: string | number | null,
  lastRun: Run | null,
): Task {
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
      instrumentConcurrency: numberOrNull(row.instrument_concurrency),
    },
    state: row.state as TaskState,
    nextRunAt: isoOrNull(nextRunAt),
    version: Number(row.version),
    createdAt: isoOrNull(row.created_at)!,
    createdBy: row.created_by,
    updatedAt: isoOrNull(row.updated_at)!,
    updatedBy: row.updated_by,
    lastRun,
  };
}

export function auditEntryFromRow(row: AuditRow): AuditEntry {
  return {
    at: isoOrNull(row.at)!,
    actor: row.actor,
    action: row.action as AuditAction,
    before: row.before ? JSON.parse(row.before) : null,
    after: row.after ? JSON.parse(row.after) : null,
  };
}
