import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import request from 'supertest';
import {
  API_PREFIX as API,
  checkResponse,
  documentedOperations,
} from '../__testUtils__/apiContract';
import { createTestDatabases } from '../__testUtils__/databases';
import { validTask } from '../__testUtils__/fixtures';
import {
  asService,
  asUser,
  startLabSchedulerBackend,
} from '../__testUtils__/testBackend';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const uuid = '00000000-0000-4000-8000-000000000000';

describe('OpenAPI document', () => {
  let backend: Awaited<ReturnType<typeof startLabSchedulerBackend>>;

  beforeAll(async () => {
    backend = await startLabSchedulerBackend(await databases.init('SQLITE_3'));
  });
  // Fails when any response of this file did not match the document (see apiContract.ts).
  afterAll(() => backend.stop());

  it('is what the router and the client were generated from', () => {
    const verify = spawnSync(
      process.execPath,
      [resolve(__dirname, '../../../../scripts/openapi.mjs'), 'verify'],
      { encoding: 'utf8' },
    );
    expect({ status: verify.status, stderr: verify.stderr }).toEqual({
      status: 0,
      stderr: '',
    });
  });

  it('has a route for every documented operation', async () => {
    const missing: string[] = [];
    for (const { method, template } of documentedOperations) {
      const res = await (request(backend.server) as any)
        [method](`${API}${template.replace(/\{[^}]+\}/g, uuid)}`)
        .set('Authorization', asUser())
        .set('Content-Type', 'application/json')
        .send(method === 'get' || method === 'delete' ? undefined : '{}');
      // A path no route serves gets Backstage's bare 404; a route's own 404 (the unknown id) is a
      // NotFoundError with a message.
      if (res.status === 404 && res.body?.error?.name !== 'NotFoundError') {
        missing.push(`${method.toUpperCase()} ${template}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('describes the responses of tasks and runs', async () => {
    const api = () => request(backend.server);
    const created = await api()
      .post(`${API}/tasks`)
      .set('Authorization', asUser())
      .send(validTask);
    expect(created.status).toBe(201);
    const id = created.body.id;
    const run = await api()
      .post(`${API}/tasks/${id}/trigger`)
      .set('Authorization', asUser());
    expect(run.status).toBe(202);
    const answers = await Promise.all([
      api().get(`${API}/tasks?limit=1`).set('Authorization', asUser()),
      api().get(`${API}/tasks/${id}`).set('Authorization', asUser()),
      api().get(`${API}/tasks/${id}/runs`).set('Authorization', asUser()),
      api().get(`${API}/tasks/${id}/audit`).set('Authorization', asUser()),
      api().get(`${API}/runs/${run.body.id}`).set('Authorization', asUser()),
      api()
        .get(`${API}/runs/${run.body.id}/events`)
        .set('Authorization', asUser()),
      api()
        .post(`${API}/runs/${run.body.id}/events`)
        .set('Authorization', asService())
        .send({ type: 'started', attempt: 1, claimToken: 'not-the-token' }),
      api().post(`${API}/tasks`).set('Authorization', asUser()).send({}),
      api().get(`${API}/health`),
    ]);
    expect(answers.map(a => a.status)).toEqual([
      200, 200, 200, 200, 200, 200, 200, 400, 200,
    ]);
    expect(answers[2].body.items).toHaveLength(1);
    expect(answers[6].body).toMatchObject({ proceed: false });
    expect(backend.contractViolations).toEqual([]);
  });
});

describe('the response check of the API tests', () => {
  const task = {
    id: uuid,
    name: 'n',
    description: '',
    instrumentRef: 'resource:default/balance-1',
    owner: 'user:default/ada',
    measurement: { type: 'mass-reading', parameters: {} },
    schedule: { type: 'once', at: '2030-01-01T00:00:00.000Z' },
    state: 'active',
    nextRunAt: '2030-01-01T00:00:00.000Z',
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'user:default/ada',
    updatedAt: '2026-01-01T00:00:00.000Z',
    updatedBy: 'user:default/ada',
    lastRun: null,
  };
  const json = 'application/json; charset=utf-8';
  const check = (
    method: string,
    path: string,
    status: number,
    body: unknown,
    contentType: string | undefined = json,
  ) =>
    checkResponse(
      method,
      `${API}${path}`,
      status,
      contentType,
      body === undefined ? '' : JSON.stringify(body),
    );

  it('accepts a documented answer', () => {
    expect(check('GET', `/tasks/${uuid}`, 200, task)).toBeUndefined();
    expect(check('DELETE', `/tasks/${uuid}`, 204, undefined)).toBeUndefined();
    expect(
      check('GET', `/tasks/${uuid}`, 401, {
        error: { name: 'AuthenticationError', message: 'no' },
      }),
    ).toBeUndefined();
  });

  it('names what does not match', () => {
    const { state, ...withoutState } = task;
    expect(check('GET', `/tasks/${uuid}`, 200, withoutState)).toMatch(
      /must have required property 'state'/,
    );
    expect(
      check('GET', `/tasks/${uuid}`, 200, { ...task, nextRunAt: 'soon' }),
    ).toMatch(/nextRunAt must match format "date-time"/);
    expect(check('GET', `/tasks/${uuid}`, 201, task)).toMatch(
      /status 201 is not documented/,
    );
    expect(check('GET', `/tasks/${uuid}`, 200, task, 'text/html')).toMatch(
      /content type text\/html is not documented/,
    );
    expect(check('GET', `/tasks/${uuid}`, 500, { oops: true })).toMatch(
      /must have required property 'error'/,
    );
    expect(check('GET', `/tasks/${uuid}`, 200, undefined)).toMatch(
      /documented body .* is missing/,
    );
    expect(check('GET', '/no-such-route', 200, {})).toBe(
      'the route is not in the document',
    );
    expect(check('GET', '/no-such-route', 404, undefined)).toBeUndefined();
  });
});
