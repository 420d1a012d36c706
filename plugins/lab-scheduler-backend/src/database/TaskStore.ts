import type {
  AuditAction,
  AuditEntry,
  Measurement,
  Run,
  Task,
  TaskPolicies,
  TaskSchedule,
  TaskState,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import type { PageOptions, PageResult } from './keyset';

/** A filter tree over task columns, produced from permission conditions. */
export type TaskFilter =
  | { property: 'owner' | 'instrument_ref'; values: string[] }
  | { anyOf: TaskFilter[] }
  | { allOf: TaskFilter[] }
  | { not: TaskFilter };

/** The fields of a task that callers set; the store owns ids, versions and timestamps. */
export interface TaskFields {
  name: string;
  description: string;
  instrumentRef: string;
  owner: string;
  measurement: Measurement;
  schedule: TaskSchedule;
  policies: TaskPolicies;
  state: TaskState;
  nextRunAt: number | null;
}

/** Which tasks a list or count covers. */
export interface TaskListFilters {
  state?: TaskState;
  text?: string;
  instrument?: string;
  owner?: string;
  /** Extra restriction from a conditional permission decision. */
  permissionFilter?: TaskFilter;
}

export type ListTasksOptions = TaskListFilters & PageOptions;

/** Which task a change applies to, at which version, by whom and when (its audit entry's actor and time). */
export interface TaskChangeOptions {
  id: string;
  /** The version the caller read: the change applies only while the task is at it (absent: any version). */
  expectedVersion?: number;
  actor: string;
  nowMs: number;
}

export interface UpdateTaskOptions extends TaskChangeOptions {
  fields: Partial<TaskFields>;
  /** What the audit trail calls the change. */
  action: AuditAction;
}

/** Persistence of tasks, their runs and their audit trail. */
export interface TaskStore {
  createTask(fields: TaskFields, actor: string, nowMs: number): Promise<Task>;
  getTask(id: string): Promise<Task | undefined>;
  /** A task whether or not it was deleted (its audit trail outlives it). */
  getTaskRecord(
    id: string,
  ): Promise<{ task: Task; deleted: boolean } | undefined>;
  getTasks(ids: string[]): Promise<Task[]>;
  listTasks(options: ListTasksOptions): Promise<PageResult<Task>>;
  /** How many tasks match, counted up to `cap`; `capped` when there are more. */
  countTasks(
    options: TaskListFilters,
    cap: number,
  ): Promise<{ count: number; capped: boolean }>;
  /**
   * Applies `fields` if the task is still at `expectedVersion`, appending an audit entry in the same
   * transaction. Throws NotFoundError for an unknown task and ConflictError for a stale version.
   */
  updateTask(options: UpdateTaskOptions): Promise<Task>;
  /** Soft-deletes the task and cancels its pending runs; the same errors as `updateTask`. */
  deleteTask(options: TaskChangeOptions): Promise<void>;
  /**
   * Creates a run due now ("run now"), unless one exists for the same instant. Returns the run.
   * Throws NotFoundError for an unknown task, and ConflictError when the task already has a manual run
   * pending, queued or running (at most one; enforced by the database, so also between concurrent calls).
   */
  triggerRun(taskId: string, actor: string, nowMs: number): Promise<Run>;
  listRuns(taskId: string, page: PageOptions): Promise<PageResult<Run>>;
  getRun(id: string): Promise<Run | undefined>;
  listAudit(taskId: string, page: PageOptions): Promise<PageResult<AuditEntry>>;
  /** Resolves when the database answers. */
  ping(): Promise<void>;
}
