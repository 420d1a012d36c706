import { createApiRef } from '@backstage/core-plugin-api';
import type {
  AuditEntry,
  CalendarResponse,
  ClashReport,
  ClashRequest,
  ExportFormat,
  MeasurementParameterSchema,
  SummaryFieldDescriptor,
  TrendDescriptor,
  Page,
  RecentResult,
  Run,
  RunOutcomeKind,
  Task,
  TaskPolicies,
  TaskState,
  WaitingReason,
} from '@lab-scheduler/plugin-lab-scheduler-common';

/** Request body to create a task (see the plugin's OpenAPI document). @public */
export interface CreateTaskInput {
  name: string;
  description?: string;
  instrumentRef: string;
  owner?: string;
  measurement: { type: string; parameters: Record<string, unknown> };
  schedule:
    | { type: 'once'; at: string; timezone?: string }
    | {
        type: 'cron';
        expression: string;
        timezone: string;
        startAt?: string;
        endAt?: string;
      };
  policies?: Partial<TaskPolicies>;
}

/** @public */
export interface ListTasksRequest {
  limit?: number;
  cursor?: string;
  state?: TaskState;
  text?: string;
  instrument?: string;
  owner?: string;
  /** Only tasks owned by the signed-in user or one of their groups. */
  mine?: boolean;
  /** Also answer `total` (a count capped at 1000). */
  count?: boolean;
}

/** A measurement type the backend runs, with the descriptor its parameter form is built from. @public */
export interface MeasurementTypeInfo {
  type: string;
  title: string;
  description: string;
  /** Null for a type that has a validation schema but no form descriptor. */
  parameterSchema: MeasurementParameterSchema | null;
  /** How long a run usually holds the instrument (absent from backends before 0.2). */
  expectedDurationSeconds?: number;
  /** Units of the raw data's channels, e.g. `{ wavelength: 'nm' }`. */
  units?: Record<string, string> | null;
  /** Labels and units of the values of a run's summary, by key. */
  summaryFields?: Record<string, SummaryFieldDescriptor> | null;
  /** What the task page's trend plots. */
  trend?: TrendDescriptor | null;
}

/** Client of the Lab Scheduler REST API. @public */
export interface LabSchedulerApi {
  listTasks(request?: ListTasksRequest): Promise<Page<Task>>;
  getTask(id: string): Promise<Task>;
  /** The measurement types the backend runs (`GET /measurement-types`). */
  listMeasurementTypes(): Promise<{ items: MeasurementTypeInfo[] }>;
  createTask(input: CreateTaskInput): Promise<Task>;
  updateTask(
    id: string,
    version: number,
    changes: Partial<CreateTaskInput>,
  ): Promise<Task>;
  deleteTask(id: string): Promise<void>;
  pauseTask(id: string): Promise<Task>;
  resumeTask(id: string): Promise<Task>;
  /** Run now: creates a run due immediately. */
  triggerTask(id: string): Promise<Run>;
  /** One run, with its result (summary, QC verdict, where the raw data is). */
  getRun(runId: string): Promise<Run>;
  listRuns(
    taskId: string,
    request?: { limit?: number; cursor?: string },
  ): Promise<Page<Run>>;
  /** The raw measurement data of a run, as stored by the executor. */
  getRawData(runId: string): Promise<Blob>;
  /** The latest finished runs across the tasks the caller may read, newest first (`GET /results`). */
  listRecentResults(request?: {
    limit?: number;
    cursor?: string;
    /** Only these finished outcomes; all when absent or empty. */
    outcomes?: RunOutcomeKind[];
  }): Promise<Page<RecentResult>>;
  /** A run's raw data as a CSV (one row per data point) or JSON download. */
  exportRunRawData(runId: string, format: ExportFormat): Promise<Blob>;
  /** A task's whole run history as a CSV or JSON download. */
  exportTaskRuns(taskId: string, format: ExportFormat): Promise<Blob>;
  listAudit(
    taskId: string,
    request?: { limit?: number; cursor?: string },
  ): Promise<Page<AuditEntry>>;
  /** Planned runs of the tasks the caller may read in a window (at most 31 days), for the calendar. */
  getCalendar(request: {
    from: string;
    to: string;
    instrument?: string;
  }): Promise<CalendarResponse>;
  /** Which of a draft schedule's next runs overlap other runs on a full instrument. */
  checkClashes(request: ClashRequest): Promise<ClashReport>;
  /** Why the given runs (pending or queued) have not started; others are left out. */
  getWaitingReasons(runIds: string[]): Promise<WaitingReason[]>;
}

/** @public */
export const labSchedulerApiRef = createApiRef<LabSchedulerApi>({
  id: 'plugin.lab-scheduler.service',
});
