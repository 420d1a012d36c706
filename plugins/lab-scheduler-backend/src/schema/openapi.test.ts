import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';
import { createTestDatabases } from '../__testUtils__/databases';
import { validTask } from '../__testUtils__/fixtures';
import { asUser, startLabSchedulerBackend } from '../__testUtils__/testBackend';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const API = '/api/lab-scheduler';
const doc = parse(readFileSync(resolve(__dirname, 'openapi.yaml'), 'utf8'));

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, 'openapi');
const validate = (name: string, value: unknown) => {
  const fn = ajv.getSchema(`openapi#/components/schemas/${name}`)!;
  const ok = fn(value);
  return ok ? [] : fn.errors;
};

describe('OpenAPI document', () => {
  let backend: Awaited<ReturnType<typeof startLabSchedulerBackend>>;

  beforeAll(async () => {
    backend = await startLabSchedulerBackend(await databases.init('SQLITE_3'));
  });
  afterAll(() => backend.stop());

  it('describes the real responses', async () => {
    const created = await request(backend.server)
      .post(`${API}/tasks`)
      .set('Authorization', asUser())
      .send(validTask);
    expect(validate('TaskInput', validTask)).toEqual([]);
    expect(validate('Task', created.body)).toEqual([]);
    const list = await request(backend.server)
      .get(`${API}/tasks?limit=1`)
      .set('Authorization', asUser());
    expect(validate('TaskPage', list.body)).toEqual([]);
    const audit = await request(backend.server)
      .get(`${API}/tasks/${created.body.id}/audit`)
      .set('Authorization', asUser());
    for (const entry of audit.body.items)
      expect(validate('AuditEntry', entry)).toEqual([]);
    const bad = await request(backend.server)
      .post(`${API}/tasks`)
      .set('Authorization', asUser())
      .send({});
    expect(validate('Error', bad.body)).toEqual([]);
    const types = await request(backend.server)
      .get(`${API}/measurement-types`)
      .set('Authorization', asUser());
    expect(types.body.items.length).toBeGreaterThan(0);
    for (const type of types.body.items)
      expect(validate('MeasurementType', type)).toEqual([]);
    expect(bad.body.error.details.length).toBeGreaterThan(0);
  });

  it('lists only routes that exist, and every route that exists', async () => {
    const uuid = '00000000-0000-4000-8000-000000000000';
    const documented: string[] = [];
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const method of ['get', 'post', 'patch', 'delete']) {
        if (!item[method]) continue;
        documented.push(`${method.toUpperCase()} ${path}`);
        const res = await (request(backend.server) as any)
          [method](`${API}${path.replace('{id}', uuid)}`)
          .set('Authorization', asUser())
          .set('Content-Type', 'application/json')
          .send(method === 'get' || method === 'delete' ? undefined : '{}');
        // A documented route answers with its own error (404 NotFoundError for the unknown id, 400 for
        // the empty body), never the router's "no such route".
        expect(res.body?.error?.message ?? '').not.toMatch(
          /^Not found$|Cannot /,
        );
      }
    }
    expect(documented.sort()).toEqual(
      [
        'GET /health',
        'GET /measurement-types',
        'GET /tasks',
        'POST /tasks',
        'GET /tasks/{id}',
        'PATCH /tasks/{id}',
        'DELETE /tasks/{id}',
        'POST /tasks/{id}/pause',
        'POST /tasks/{id}/resume',
        'GET /tasks/{id}/runs',
        'GET /tasks/{id}/audit',
        'GET /runs/{id}',
        'POST /tasks/{id}/trigger',
        'GET /runs/{id}/raw',
        'GET /runs/{id}/events',
        'POST /runs/{id}/events',
        'GET /results',
        'GET /runs/{id}/export',
        'GET /tasks/{id}/runs/export',
      ].sort(),
    );
  });
});
