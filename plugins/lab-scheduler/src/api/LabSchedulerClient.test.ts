import { ResponseError } from '@backstage/errors';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { LabSchedulerClient } from './LabSchedulerClient';

/**
 * The client's requests are typed by the generated client (a wrong path or parameter does not compile);
 * this checks what it really sends: every request is a documented operation with its documented query
 * parameters, bodies as given, and errors surface as ResponseError.
 */
const doc = parse(
  readFileSync(
    resolve(
      __dirname,
      '../../../lab-scheduler-backend/src/schema/openapi.yaml',
    ),
    'utf8',
  ),
);

/** The documented operation a request is for, with its query parameter names. */
function operationOf(method: string, path: string) {
  for (const [template, item] of Object.entries<any>(doc.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    const operation = item[method.toLowerCase()];
    if (!pattern.test(path) || !operation) continue;
    const parameters = [
      ...(item.parameters ?? []),
      ...(operation.parameters ?? []),
    ]
      .map((p: any) =>
        p.$ref ? doc.components.parameters[p.$ref.split('/').pop()] : p,
      )
      .filter((p: any) => p.in === 'query')
      .map((p: any) => p.name);
    return { template, parameters };
  }
  return undefined;
}

type Sent = { method: string; path: string; query: string; body?: any };

function clientAnswering(answer: (sent: Sent) => Response) {
  const sent: Sent[] = [];
  const client = new LabSchedulerClient({
    discoveryApi: {
      getBaseUrl: async () => 'http://backend/api/lab-scheduler',
    },
    fetchApi: {
      fetch: async (input: any, init?: any) => {
        // As Backstage's fetch middleware need it: a URL and init (a Request's body is used up when
        // the middleware copy it).
        if (typeof input !== 'string') {
          throw new TypeError('fetchApi must get a URL, not a Request');
        }
        const request = new Request(input, init);
        const url = new URL(request.url);
        const text = await request.text();
        const entry = {
          method: request.method,
          path: url.pathname.replace('/api/lab-scheduler', ''),
          query: url.search,
          body: text ? JSON.parse(text) : undefined,
        };
        sent.push(entry);
        return answer(entry);
      },
    },
  });
  return { client, sent };
}

describe('LabSchedulerClient against the OpenAPI document', () => {
  const id = '00000000-0000-4000-8000-000000000001';

  it('only sends documented operations and query parameters', async () => {
    const { client, sent } = clientAnswering(
      ({ method }) =>
        new Response(method === 'DELETE' ? null : '{"items":[]}', {
          status: method === 'DELETE' ? 204 : 200,
          headers: { 'Content-Type': 'application/json' },
        }),
    );
    await client.listTasks({
      limit: 10,
      state: 'active',
      text: '',
      mine: true,
      count: false,
    });
    await client.getTask(id);
    await client.listMeasurementTypes();
    await client.createTask({
      name: 'n',
      instrumentRef: 'resource:default/i',
      measurement: { type: 'mass-reading', parameters: {} },
      schedule: { type: 'once', at: '2030-01-01T00:00:00Z' },
    });
    await client.updateTask(id, 3, { name: 'm' });
    expect(await client.deleteTask(id)).toBeUndefined();
    await client.pauseTask(id);
    await client.resumeTask(id);
    await client.triggerTask(id);
    await client.getRun(id);
    await client.listRuns(id, { limit: 5 });
    await client.listAudit(id);
    await client.getRawData(id);
    await client.listRecentResults({ outcomes: ['qc_pass', 'qc_fail'] });
    await client.exportRunRawData(id, 'csv');
    await client.exportTaskRuns(id, 'json');
    await client.getCalendar({
      from: '2030-01-01T00:00:00.000Z',
      to: '2030-01-02T00:00:00.000Z',
    });
    await client.getWaitingReasons([id, id]);
    expect(sent).toHaveLength(18);

    const problems = sent.flatMap(({ method, path, query }) => {
      const operation = operationOf(method, path);
      if (!operation) return [`${method} ${path} is not documented`];
      return [...new URLSearchParams(query).keys()]
        .filter(name => !operation.parameters.includes(name))
        .map(name => `${method} ${operation.template}: query ${name}`);
    });
    expect(problems).toEqual([]);

    expect(sent[0].query).toBe('?limit=10&state=active&mine=true&count=false');
    expect(sent.find(r => r.method === 'PATCH')!.body).toEqual({
      name: 'm',
      version: 3,
    });
    expect(sent.find(r => r.path === '/results')!.query).toBe(
      '?outcome=qc_pass%2Cqc_fail',
    );
  });

  it("throws the backend's error as a ResponseError", async () => {
    const { client } = clientAnswering(
      () =>
        new Response(
          JSON.stringify({
            error: { name: 'NotFoundError', message: `Task ${id} not found` },
            response: { statusCode: 404 },
          }),
          { status: 404, headers: { 'Content-Type': 'application/json' } },
        ),
    );
    const error = await client.getTask(id).catch(e => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.statusCode).toBe(404);
    expect(error.body.error.message).toBe(`Task ${id} not found`);
  });
});
