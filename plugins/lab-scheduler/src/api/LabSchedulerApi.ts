import { createApiRef } from '@backstage/core-plugin-api';
import type {
  AuditEntry,
  Page,
  Run,
  Task,
  TaskState,
} from '@internal/plugin-lab-scheduler-common';

/** Request body to create a task (see the plugin's OpenAPI document). @public */
export interface CreateTaskInput {
  name: string;
  description?: string;
  instrumentRef: string;
  owner?: string;
  measurement: { type: string; parameters: Record<string, unknown> };
  schedule:
    | { type: 'once'; at: string }
    | {
        type: 'cron';
        expression: string;
        timezone: string;
        startAt?: string;
        endAt?: string;
      };
}

/** @public */
export interface ListTasksRequest {
  limit?: number;
  cursor?: string;
  state?: TaskState;
  text?: string;
  instrument?: string;
  owner?: string;
}

/** Client of the Lab Scheduler REST API. @public */
export interface LabSchedulerApi {
  listTasks(request?: ListTasksRequest): Promise<Page<Task>>;
  getTask(id: string): Promise<Task>;
  createTask(input: CreateTaskInput): Promise<Task>;
  updateTask(
    id: string,
    version: number,
    changes: Partial<CreateTaskInput>,
  ): Promise<Task>;
  deleteTask(id: string): Promise<void>;
  pauseTask(id: string): Promise<Task>;
  resumeTask(id: string): Promise<Task>;
  listRuns(
    taskId: string,
    request?: { limit?: number; cursor?: string },
  ): Promise<Page<Run>>;
  listAudit(
    taskId: string,
    request?: { limit?: number; cursor?: string },
  ): Promise<Page<AuditEntry>>;
}

/** @public */
export const labSchedulerApiRef = createApiRef<LabSchedulerApi>({
  id: 'plugin.lab-scheduler.service',
});
