import { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import type {
  AuditEntry,
  CalendarResponse,
  ClashReport,
  ClashRequest,
  ExportFormat,
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

/** LabSchedulerApi over HTTP, through Backstage's discovery and fetch APIs. @public */
export class LabSchedulerClient implements LabSchedulerApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;

  constructor(options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
  }

  listTasks(request: ListTasksRequest = {}): Promise<Page<Task>> {
    return this.request('GET', `/tasks${query(request)}`);
  }

  getTask(id: string): Promise<Task> {
    return this.request('GET', `/tasks/${encodeURIComponent(id)}`);
  }

  listMeasurementTypes(): Promise<{ items: MeasurementTypeInfo[] }> {
    return this.request('GET', '/measurement-types');
  }

  createTask(input: CreateTaskInput): Promise<Task> {
    return this.request('POST', '/tasks', input);
  }

  updateTask(
    id: string,
    version: number,
    changes: Partial<CreateTaskInput>,
  ): Promise<Task> {
    return this.request('PATCH', `/tasks/${encodeURIComponent(id)}`, {
      ...changes,
      version,
    });
  }

  async deleteTask(id: string): Promise<void> {
    await this.request('DELETE', `/tasks/${encodeURIComponent(id)}`);
  }

  pauseTask(id: string): Promise<Task> {
    return this.request('POST', `/tasks/${encodeURIComponent(id)}/pause`);
  }

  resumeTask(id: string): Promise<Task> {
    return this.request('POST', `/tasks/${encodeURIComponent(id)}/resume`);
  }

  triggerTask(id: string): Promise<Run> {
    return this.request('POST', `/tasks/${encodeURIComponent(id)}/trigger`);
  }

  getRun(runId: string): Promise<Run> {
    return this.request('GET', `/runs/${encodeURIComponent(runId)}`);
  }

  listRuns(
    taskId: string,
    request: { limit?: number; cursor?: string } = {},
  ): Promise<Page<Run>> {
    return this.request(
      'GET',
      `/tasks/${encodeURIComponent(taskId)}/runs${query(request)}`,
    );
  }

  listAudit(
    taskId: string,
    request: { limit?: number; cursor?: string } = {},
  ): Promise<Page<AuditEntry>> {
    return this.request(
      'GET',
      `/tasks/${encodeURIComponent(taskId)}/audit${query(request)}`,
    );
  }

  async getRawData(runId: string): Promise<Blob> {
    const baseUrl = await this.discoveryApi.getBaseUrl('lab-scheduler');
    const response = await this.fetchApi.fetch(
      `${baseUrl}/runs/${encodeURIComponent(runId)}/raw`,
    );
    if (!response.ok) throw await ResponseError.fromResponse(response);
    return response.blob();
  }

  listRecentResults(
    request: {
      limit?: number;
      cursor?: string;
      outcomes?: RunOutcomeKind[];
    } = {},
  ): Promise<Page<RecentResult>> {
    const { outcomes, ...page } = request;
    return this.request(
      'GET',
      `/results${query({ ...page, outcome: outcomes?.join(',') })}`,
    );
  }

  exportRunRawData(runId: string, format: ExportFormat): Promise<Blob> {
    return this.download(
      `/runs/${encodeURIComponent(runId)}/export${query({ format })}`,
    );
  }

  exportTaskRuns(taskId: string, format: ExportFormat): Promise<Blob> {
    return this.download(
      `/tasks/${encodeURIComponent(taskId)}/runs/export${query({ format })}`,
    );
  }

  private async download(path: string): Promise<Blob> {
    const baseUrl = await this.discoveryApi.getBaseUrl('lab-scheduler');
    const response = await this.fetchApi.fetch(`${baseUrl}${path}`);
    if (!response.ok) throw await ResponseError.fromResponse(response);
    return response.blob();
  }

  getCalendar(request: {
    from: string;
    to: string;
    instrument?: string;
  }): Promise<CalendarResponse> {
    return this.request('GET', `/calendar${query(request)}`);
  }

  checkClashes(request: ClashRequest): Promise<ClashReport> {
    return this.request('POST', '/calendar/clashes', request);
  }

  async getWaitingReasons(runIds: string[]): Promise<WaitingReason[]> {
    if (runIds.length === 0) return [];
    const { items } = await this.request<{ items: WaitingReason[] }>(
      'GET',
      `/waiting-reasons${query({ ids: runIds.join(',') })}`,
    );
    return items;
  }

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> {
    const baseUrl = await this.discoveryApi.getBaseUrl('lab-scheduler');
    const response = await this.fetchApi.fetch(`${baseUrl}${path}`, {
      method,
      headers:
        body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    if (response.status === 204) {
      return undefined as T;
    }
    return (await response.json()) as T;
  }
}

function query(params: object): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
