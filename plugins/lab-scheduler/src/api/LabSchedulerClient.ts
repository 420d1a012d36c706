// openapi-fetch names its request methods after the HTTP verbs (api.GET, api.POST).
/* eslint-disable new-cap */
import { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import createClient, { Client } from 'openapi-fetch';
import type {
  AuditEntry,
  ExportFormat,
  CalendarResponse,
  ClashReport,
  ClashRequest,
  Page,
  RecentResult,
  Run,
  RunOutcomeKind,
  Task,
  WaitingReason,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import {
  CreateTaskInput,
  LabSchedulerApi,
  ListTasksRequest,
  MeasurementTypeInfo,
} from './LabSchedulerApi';
import type { paths } from '../schema/openapi/generated/openapi';

/**
 * LabSchedulerApi over HTTP, through Backstage's discovery and fetch APIs. Requests are typed by the
 * client generated from the backend's OpenAPI document (paths, parameters and bodies are checked at
 * compile time); answers are handed out as the `-common` types the UI uses, which the backend's typed
 * router and its API tests hold to the same document. @public
 */
export class LabSchedulerClient implements LabSchedulerApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;

  constructor(options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
  }

  listTasks(request: ListTasksRequest = {}): Promise<Page<Task>> {
    const { mine, count, ...rest } = request;
    return this.call(api =>
      api.GET('/tasks', {
        params: {
          query: withoutEmpty({
            ...rest,
            mine: flag(mine),
            count: flag(count),
          }),
        },
      }),
    );
  }

  getTask(id: string): Promise<Task> {
    return this.call(api =>
      api.GET('/tasks/{id}', { params: { path: { id } } }),
    );
  }

  listMeasurementTypes(): Promise<{ items: MeasurementTypeInfo[] }> {
    return this.call(api => api.GET('/measurement-types'));
  }

  createTask(input: CreateTaskInput): Promise<Task> {
    return this.call(api => api.POST('/tasks', { body: input }));
  }

  updateTask(
    id: string,
    version: number,
    changes: Partial<CreateTaskInput>,
  ): Promise<Task> {
    return this.call(api =>
      api.PATCH('/tasks/{id}', {
        params: { path: { id } },
        body: { ...changes, version },
      }),
    );
  }

  async deleteTask(id: string): Promise<void> {
    await this.call(api =>
      api.DELETE('/tasks/{id}', { params: { path: { id } } }),
    );
  }

  pauseTask(id: string): Promise<Task> {
    return this.call(api =>
      api.POST('/tasks/{id}/pause', { params: { path: { id } } }),
    );
  }

  resumeTask(id: string): Promise<Task> {
    return this.call(api =>
      api.POST('/tasks/{id}/resume', { params: { path: { id } } }),
    );
  }

  triggerTask(id: string): Promise<Run> {
    return this.call(api =>
      api.POST('/tasks/{id}/trigger', { params: { path: { id } } }),
    );
  }

  getRun(runId: string): Promise<Run> {
    return this.call(api =>
      api.GET('/runs/{id}', { params: { path: { id: runId } } }),
    );
  }

  listRuns(
    taskId: string,
    request: { limit?: number; cursor?: string } = {},
  ): Promise<Page<Run>> {
    return this.call(api =>
      api.GET('/tasks/{id}/runs', {
        params: { path: { id: taskId }, query: withoutEmpty(request) },
      }),
    );
  }

  listAudit(
    taskId: string,
    request: { limit?: number; cursor?: string } = {},
  ): Promise<Page<AuditEntry>> {
    return this.call(api =>
      api.GET('/tasks/{id}/audit', {
        params: { path: { id: taskId }, query: withoutEmpty(request) },
      }),
    );
  }

  getRawData(runId: string): Promise<Blob> {
    return this.call(api =>
      api.GET('/runs/{id}/raw', {
        params: { path: { id: runId } },
        parseAs: 'blob',
      }),
    );
  }

  listRecentResults(
    request: {
      limit?: number;
      cursor?: string;
      outcomes?: RunOutcomeKind[];
    } = {},
  ): Promise<Page<RecentResult>> {
    const { outcomes, ...page } = request;
    return this.call(api =>
      api.GET('/results', {
        params: {
          query: withoutEmpty({ ...page, outcome: outcomes?.join(',') }),
        },
      }),
    );
  }

  exportRunRawData(runId: string, format: ExportFormat): Promise<Blob> {
    return this.call(api =>
      api.GET('/runs/{id}/export', {
        params: { path: { id: runId }, query: { format } },
        parseAs: 'blob',
      }),
    );
  }

  exportTaskRuns(taskId: string, format: ExportFormat): Promise<Blob> {
    return this.call(api =>
      api.GET('/tasks/{id}/runs/export', {
        params: { path: { id: taskId }, query: { format } },
        parseAs: 'blob',
      }),
    );
  }

  getCalendar(request: {
    from: string;
    to: string;
    instrument?: string;
  }): Promise<CalendarResponse> {
    return this.call(api =>
      api.GET('/calendar', { params: { query: withoutEmpty(request) } }),
    );
  }

  checkClashes(request: ClashRequest): Promise<ClashReport> {
    return this.call(api => api.POST('/calendar/clashes', { body: request }));
  }

  async getWaitingReasons(runIds: string[]): Promise<WaitingReason[]> {
    if (runIds.length === 0) return [];
    const { items } = await this.call<{ items: WaitingReason[] }>(api =>
      api.GET('/waiting-reasons', {
        params: { query: { ids: runIds.join(',') } },
      }),
    );
    return items;
  }

  /** Sends one request of the generated client; a non-2xx answer throws a ResponseError. */
  private async call<T>(
    send: (api: Client<paths>) => Promise<{ data?: unknown }>,
  ): Promise<T> {
    const api = createClient<paths>({
      baseUrl: await this.discoveryApi.getBaseUrl('lab-scheduler'),
      // Backstage's fetchApi gets a URL and init, not the Request: its middleware (the plugin protocol
      // resolver, the identity header) copy the request, and a copied Request has used up its body.
      fetch: async (request: Request) => {
        const body =
          request.method === 'GET' || request.method === 'HEAD'
            ? undefined
            : await request.text();
        const response = await this.fetchApi.fetch(request.url, {
          method: request.method,
          headers: request.headers,
          body: body || undefined,
        });
        if (!response.ok) throw await ResponseError.fromResponse(response);
        return response;
      },
    });
    const { data } = await send(api);
    return data as T;
  }
}

/** A boolean query flag as the API spells it. */
function flag(value: boolean | undefined): 'true' | 'false' | undefined {
  if (value === undefined) return undefined;
  return value ? 'true' : 'false';
}

/** Query parameters without the unset ones (an empty text box is no filter). */
function withoutEmpty<T extends object>(params: T): T {
  return Object.fromEntries(
    Object.entries(params).filter(([, v]) => v !== undefined && v !== ''),
  ) as T;
}
