import type { RunOutcome } from './runOutcome';

/** One-time schedule: a single run at an instant. @public */
export interface OnceSchedule {
  type: 'once';
  /** ISO-8601 instant. Responses give UTC with milliseconds. */
  at: string;
  /** The IANA time zone it was entered in: the zone it is shown in (the instant alone decides when it runs). */
  timezone?: string;
}

/** Recurring schedule: a 5-field cron expression evaluated in an IANA time zone. @public */
export interface CronSchedule {
  type: 'cron';
  expression: string;
  timezone: string;
  startAt?: string;
  endAt?: string;
}

/** @public */
export type TaskSchedule = OnceSchedule | CronSchedule;

/** @public */
export type TaskState = 'active' | 'paused' | 'completed';

/** @public */
export const TASK_STATES: TaskState[] = ['active', 'paused', 'completed'];

/** @public */
export type RunStatus =
  | 'pending'
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'dead_lettered'
  | 'skipped'
  | 'cancelled';

/** @public */
export const RUN_STATUSES: RunStatus[] = [
  'pending',
  'queued',
  'running',
  'succeeded',
  'failed',
  'dead_lettered',
  'skipped',
  'cancelled',
];

/** @public */
export interface Measurement {
  type: string;
  parameters: Record<string, unknown>;
}

/** A run: one scheduled occurrence of a task. @public */
export type Run = {
  id: string;
  taskId: string;
  scheduledFor: string;
  status: RunStatus;
  attempt: number;
  claimedAt: string | null;
  publishedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  result: Record<string, unknown> | null;
  error: string | null;
  /**
   * What the run came to (`runOutcome(run)`), filled in by the API. Absent on runs built elsewhere:
   * derive it with `runOutcome`.
   */
  outcome?: RunOutcome;
};

/**
 * What the dispatcher does when occurrences were missed (downtime), when the previous run is still
 * active, and how many runs may be active on the instrument at once.
 * @public
 */
export interface TaskPolicies {
  /** skip: run none of the missed occurrences; run_once: run the latest one; run_all: run each one within the window. */
  misfire: 'skip' | 'run_once' | 'run_all';
  /** How far back run_all reaches, in seconds. */
  misfireWindowSeconds: number;
  /** skip: an occurrence is skipped while a previous run of the task is pending, queued or running. */
  overlap: 'skip' | 'allow';
  /** At most this many queued/running runs on the instrument (across all its tasks); null for no limit. */
  instrumentConcurrency: number | null;
  /**
   * Whom the task's owner hears from (Backstage notifications, at most one per task per window): `off`,
   * `failures` (QC fail, failed, dead-lettered; the default) or `every_run` (every finished run).
   * Always present in API responses.
   */
  notify?: TaskNotifyPolicy;
}

/** @public */
export type TaskNotifyPolicy = 'off' | 'failures' | 'every_run';

/** @public */
export const TASK_NOTIFY_POLICIES: TaskNotifyPolicy[] = [
  'off',
  'failures',
  'every_run',
];

/** @public */
export const DEFAULT_TASK_POLICIES: TaskPolicies = {
  misfire: 'run_once',
  misfireWindowSeconds: 3600,
  overlap: 'skip',
  instrumentConcurrency: 1,
  notify: 'failures',
};

/** A measurement task as the API answers it. @public */
export type Task = {
  id: string;
  name: string;
  description: string;
  instrumentRef: string;
  owner: string;
  measurement: Measurement;
  schedule: TaskSchedule;
  policies: TaskPolicies;
  state: TaskState;
  nextRunAt: string | null;
  version: number;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
  lastRun: Run | null;
};

/** @public */
export type AuditAction =
  | 'create'
  | 'update'
  | 'pause'
  | 'resume'
  | 'delete'
  | 'trigger';

/** An entry of a task's append-only audit trail. @public */
export type AuditEntry = {
  at: string;
  actor: string;
  action: AuditAction;
  before: Omit<Task, 'lastRun'> | null;
  after: Omit<Task, 'lastRun'> | null;
};

/** A page of results with the cursor of the next page, or null on the last one. @public */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  /** How many items match in all (when asked, e.g. `GET /tasks?count=true`): exact up to a cap, then `capped`. */
  total?: { count: number; capped: boolean };
}

/** Error body of the API (Backstage's error shape, with optional field details). @public */
export interface ApiErrorBody {
  error: {
    name: string;
    message: string;
    details?: { path: string; message: string }[];
  };
}
