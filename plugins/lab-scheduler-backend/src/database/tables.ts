import type { RunStatus } from '@lab-scheduler/plugin-lab-scheduler-common';

/*
 * The plugin's schema as the code names it: tables, the constraints and indexes whose names the code
 * reads (error mapping, index checks), and the rows as the drivers return them. The migrations
 * (../../migrations) create all of it and keep their own literal names: they are history and must not
 * change with this file.
 */

export const TASKS = 'lab_scheduler_tasks';
export const RUNS = 'lab_scheduler_runs';
export const AUDIT = 'lab_scheduler_audit';
/**
 * The next run of each task that has one (active, not deleted, an occurrence left): the dispatcher's queue
 * of due tasks, kept out of the task row so that a claim need not rewrite it (migration 20261129120000).
 */
export const NEXT_RUNS = 'lab_scheduler_next_runs';
export const RUN_EVENTS = 'lab_scheduler_run_events';
/** PostgreSQL only: lower(name) U+001F lower(description) per task, for the trigram text filter. */
export const TASK_SEARCH = 'lab_scheduler_task_search';
/** The run notifier's read position (one row, id = 1). */
export const NOTIFICATION_STATE = 'lab_scheduler_notification_state';
/** When each task's owner was last notified. */
export const TASK_NOTIFICATIONS = 'lab_scheduler_task_notifications';
/** knex's migration bookkeeping for this plugin. */
export const MIGRATIONS_TABLE = 'lab_scheduler_knex_migrations';

/** Unique (task_id, scheduled_for): one run per occurrence. */
export const RUN_OCCURRENCE_KEY = 'lab_scheduler_runs_occurrence_uniq';
/** Partial unique (task_id) over manual runs pending, queued or running: one at a time per task. */
export const RUN_MANUAL_KEY = 'lab_scheduler_runs_manual_uniq';
/** The pg_trgm index of the text filter (absent when pg_trgm could not be installed). */
export const TASK_SEARCH_TRIGRAM_INDEX = 'lab_scheduler_task_search_trgm_idx';

/** Runs that hold or wait for their task's turn (overlap policy, one manual run at a time). */
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = [
  'pending',
  'queued',
  'running',
];

/** Runs that can never change again. */
export const FINISHED_RUN_STATUSES: readonly RunStatus[] = [
  'succeeded',
  'failed',
  'dead_lettered',
  'skipped',
  'cancelled',
];

/** A BIGINT column: a string from pg, a number from SQLite. */
type Bigint = string | number;

/** A row of lab_scheduler_tasks. */
export type TaskRow = {
  id: string;
  name: string;
  description: string;
  instrument_ref: string;
  owner: string;
  measurement_type: string;
  /** JSON */
  measurement_parameters: string;
  schedule_type: string;
  /** JSON, normalised */
  schedule: string;
  state: string;
  /** The next run (NEXT_RUNS), or NEVER_SORT_AT: the list's keyset. */
  sort_at: Bigint;
  version: number;
  created_at: Bigint;
  created_by: string;
  updated_at: Bigint;
  updated_by: string;
  deleted_at: Bigint | null;
  misfire_policy: string;
  misfire_window_seconds: number;
  overlap_policy: string;
  notify_policy: string;
  instrument_concurrency: number | null;
};

/** A row of lab_scheduler_runs. */
export type RunRow = {
  id: string;
  task_id: string;
  /** The instrument the run was claimed for (null for runs from before instruments were recorded). */
  instrument_ref: string | null;
  scheduled_for: Bigint;
  status: string;
  attempt: number;
  claimed_by: string | null;
  claim_token: string | null;
  claimed_at: Bigint | null;
  lease_expires_at: Bigint | null;
  published_at: Bigint | null;
  started_at: Bigint | null;
  finished_at: Bigint | null;
  /** JSON */
  result: string | null;
  error: string | null;
  /** Who asked for the run ("run now"); null for scheduled occurrences. */
  triggered_by: string | null;
  slot: number | null;
  publish_failures: number;
  created_at: Bigint;
};

/** A row of lab_scheduler_audit. */
export type AuditRow = {
  seq: Bigint;
  task_id: string;
  at: Bigint;
  actor: string;
  action: string;
  /** JSON snapshot */
  before: string | null;
  /** JSON snapshot */
  after: string | null;
};

/** A row of lab_scheduler_run_events. */
export type RunEventRow = {
  seq: Bigint;
  run_id: string;
  task_id: string;
  at: Bigint;
  actor: string;
  event: string;
  /** SQLite answers 0/1. */
  accepted: boolean | number;
  status: string;
  /** JSON */
  detail: string | null;
};
