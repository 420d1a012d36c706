import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { LabSchedulerClient } from './LabSchedulerClient';

/**
 * The client is checked against the backend's OpenAPI document: every request it can make is a documented
 * operation (method and path), with the documented body shape.
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

function documented(method: string, path: string): boolean {
  return Object.entries<any>(doc.paths).some(([template, item]) => {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    return pattern.test(path) && Boolean(item[method.toLowerCase()]);
  });
}

describe('LabSchedulerClient against the OpenAPI document', () => {
  const requests: { method: string; path: string; body?: any }[] = [];
  const client = new LabSchedulerClient({
    discoveryApi: {
      getBaseUrl: async () => 'http://backend/api/lab-scheduler',
    },
    fetchApi: {
      fetch: async (url: any, init: any = {}) => {
        const { pathname } = new URL(String(url));
        requests.push({
          method: init.method ?? 'GET',
          path: pathname.replace('/api/lab-scheduler', ''),
          body: init.body ? JSON.parse(init.body) : undefined,
        });
        return new Response(init.method === 'DELETE' ? null : '{}', {
          status: init.method === 'DELETE' ? 204 : 200,
        });
      },
    },
  });
  const id = '00000000-0000-4000-8000-000000000001';

  it('only calls documented operations', async () => {
    await client.listTasks({ limit: 10, state: 'active', text: 'x' });
    await client.getTask(id);
    await client.createTask({
      name: 'n',
      instrumentRef: 'resource:default/i',
      measurement: { type: 'mass-reading', parameters: {} },
      schedule: { type: 'once', at: '2030-01-01T00:00:00Z' },
    });
    await client.updateTask(id, 3, { name: 'm' });
    await client.deleteTask(id);
    await client.pauseTask(id);
    await client.resumeTask(id);
    await client.triggerTask(id);
    await client.getRun(id);
    await client.listRuns(id, { limit: 5 });
    await client.listAudit(id);
    await client.getRawData(id);
    const undocumented = requests.filter(r => !documented(r.method, r.path));
    expect(undocumented).toEqual([]);
    expect(requests).toHaveLength(12);
    // Bodies use only documented properties.
    const create = requests.find(
      r => r.method === 'POST' && r.path === '/tasks',
    )!;
    const allowed = Object.keys(doc.components.schemas.TaskInput.properties);
    expect(Object.keys(create.body).every(k => allowed.includes(k))).toBe(true);
    const patch = requests.find(r => r.method === 'PATCH')!;
    expect(patch.body).toEqual({ name: 'm', version: 3 });
  });
});
