import {
  measurementTypes,
  Task,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { LabSchedulerApi } from '../api';

/** A task as the API would answer it, for component tests. */
export function makeTask(i: number, overrides: Partial<Task> = {}): Task {
  const at = new Date(Date.UTC(2030, 0, 1, 9, i)).toISOString();
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    name: `Task ${i}`,
    description: '',
    instrumentRef: 'resource:default/plate-reader-1',
    owner: 'user:default/ada',
    measurement: { type: 'absorbance-spectrum', parameters: {} },
    schedule: { type: 'once', at },
    policies: {
      misfire: 'run_once',
      misfireWindowSeconds: 3600,
      overlap: 'skip',
      instrumentConcurrency: 1,
    },
    state: 'active',
    nextRunAt: at,
    version: 1,
    createdAt: at,
    createdBy: 'user:default/ada',
    updatedAt: at,
    updatedBy: 'user:default/ada',
    lastRun: null,
    ...overrides,
  };
}

/** An in-memory LabSchedulerApi with cursor paging, recording its calls. */
export function fakeApi(tasks: Task[]): LabSchedulerApi & { calls: any[] } {
  const calls: any[] = [];
  const api: any = {
    calls,
    // What the backend answers: the built-in types with their parameter descriptors.
    async listMeasurementTypes() {
      return {
        items: Object.values(measurementTypes).map(d => ({
          type: d.type,
          title: d.title,
          description: d.description,
          parameterSchema: d.parameterSchema ?? null,
          expectedDurationSeconds: d.expectedDurationSeconds,
          units: d.units ?? null,
          summaryFields: d.summaryFields ?? null,
          trend: d.trend ?? null,
        })),
      };
    },
    async listTasks(request: any = {}) {
      calls.push(['listTasks', request]);
      const filtered = tasks.filter(
        t => !request.state || t.state === request.state,
      );
      const start = request.cursor ? Number(request.cursor) : 0;
      const limit = request.limit ?? 50;
      const items = filtered.slice(start, start + limit);
      return {
        items,
        nextCursor:
          start + limit < filtered.length ? String(start + limit) : null,
        ...(request.count
          ? { total: { count: filtered.length, capped: false } }
          : {}),
      };
    },
    // The calendar's extras have nothing to say here: no clashes, no waiting runs, an empty calendar.
    async checkClashes(request: any) {
      return {
        instrumentRef: request.instrumentRef,
        capacity: 1,
        durationMs: 0,
        occurrences: [],
      };
    },
    async getWaitingReasons() {
      return [];
    },
    async getCalendar(request: any) {
      return {
        from: request.from,
        to: request.to,
        items: [],
        truncated: false,
      };
    },
  };
  for (const name of [
    'getTask',
    'createTask',
    'updateTask',
    'deleteTask',
    'pauseTask',
    'resumeTask',
    'triggerTask',
    'getRun',
    'listRuns',
    'listAudit',
    'getRawData',
  ]) {
    api[name] = jest.fn(async () => {
      throw new Error(`${name} not expected`);
    });
  }
  return api;
}
