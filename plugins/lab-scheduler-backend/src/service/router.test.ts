import { TestDatabaseId } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import request from 'supertest';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { validTask } from '../__testUtils__/fixtures';
import {
  asService,
  asUser,
  startLabSchedulerBackend,
} from '../__testUtils__/testBackend';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const API = '/api/lab-scheduler';
const future = (ms: number) => new Date(Date.now() + ms).toISOString();

type Backend = Awaited<ReturnType<typeof startLabSchedulerBackend>>;

async function counts(knex: Knex) {
  const [tasks] = await knex('lab_scheduler_tasks').count({ n: '*' });
  const [audit] = await knex('lab_scheduler_audit').count({ n: '*' });
  const versions = await knex('lab_scheduler_tasks')
    .select('id', 'version', 'updated_at')
    .orderBy('id');
  return {
    tasks: Number(tasks.n),
    audit: Number(audit.n),
    versions: JSON.stringify(versions),
  };
}

/** Malformed create bodies: [description, body, field the message must name]. */
const badCreates: [string, unknown, string][] = [
  ['missing name', { ...validTask, name: undefined }, 'name'],
  ['empty name', { ...validTask, name: '' }, 'name'],
  ['blank name', { ...validTask, name: '   ' }, 'name'],
  ['name too long', { ...validTask, name: 'x'.repeat(201) }, 'name'],
  ['name not a string', { ...validTask, name: 42 }, 'name'],
  [
    'description too long',
    { ...validTask, description: 'd'.repeat(4001) },
    'description',
  ],
  [
    'description not a string',
    { ...validTask, description: ['a'] },
    'description',
  ],
  [
    'missing instrumentRef',
    { ...validTask, instrumentRef: undefined },
    'instrumentRef',
  ],
  [
    'shorthand instrumentRef',
    { ...validTask, instrumentRef: 'plate-reader-1' },
    'instrumentRef',
  ],
  [
    'instrumentRef without namespace',
    { ...validTask, instrumentRef: 'resource:plate-reader-1' },
    'instrumentRef',
  ],
  [
    'unknown instrument',
    { ...validTask, instrumentRef: 'resource:default/nope' },
    'instrumentRef',
  ],
  [
    'entity that is not an instrument',
    { ...validTask, instrumentRef: 'resource:default/postgres-db' },
    'instrumentRef',
  ],
  ['shorthand owner', { ...validTask, owner: 'bob' }, 'owner'],
  ['owner not a string', { ...validTask, owner: { name: 'bob' } }, 'owner'],
  [
    'missing measurement',
    { ...validTask, measurement: undefined },
    'measurement',
  ],
  [
    'measurement not an object',
    { ...validTask, measurement: 'absorbance' },
    'measurement',
  ],
  [
    'unknown measurement type',
    { ...validTask, measurement: { type: 'telepathy', parameters: {} } },
    'measurement.type',
  ],
  [
    'type unsupported by instrument',
    { ...validTask, measurement: { type: 'ph-timeseries', parameters: {} } },
    'measurement.type',
  ],
  [
    'parameters not an object',
    {
      ...validTask,
      measurement: { type: 'absorbance-spectrum', parameters: [] },
    },
    'measurement.parameters',
  ],
  [
    'unknown parameter',
    {
      ...validTask,
      measurement: {
        type: 'absorbance-spectrum',
        parameters: { colour: 'red' },
      },
    },
    'measurement.parameters.colour',
  ],
  [
    'parameter out of range',
    {
      ...validTask,
      measurement: { type: 'absorbance-spectrum', parameters: { startNm: 10 } },
    },
    'measurement.parameters.startNm',
  ],
  [
    'parameter wrong type',
    {
      ...validTask,
      measurement: { type: 'absorbance-spectrum', parameters: { stepNm: '2' } },
    },
    'measurement.parameters.stepNm',
  ],
  [
    'end wavelength before start',
    {
      ...validTask,
      measurement: {
        type: 'absorbance-spectrum',
        parameters: { startNm: 600, endNm: 300 },
      },
    },
    'measurement.parameters.endNm',
  ],
  [
    'unknown measurement field',
    { ...validTask, measurement: { ...validTask.measurement, extra: 1 } },
    'measurement.extra',
  ],
  ['missing schedule', { ...validTask, schedule: undefined }, 'schedule'],
  [
    'unknown schedule type',
    { ...validTask, schedule: { type: 'sometimes' } },
    'schedule.type',
  ],
  [
    'cron with 4 fields',
    {
      ...validTask,
      schedule: { ...validTask.schedule, expression: '0 9 * *' },
    },
    'schedule.expression',
  ],
  [
    'cron with bad minute',
    {
      ...validTask,
      schedule: { ...validTask.schedule, expression: '61 9 * * *' },
    },
    'schedule.expression',
  ],
  [
    'cron macro',
    { ...validTask, schedule: { ...validTask.schedule, expression: '@daily' } },
    'schedule.expression',
  ],
  [
    'cron that never fires',
    {
      ...validTask,
      schedule: { ...validTask.schedule, expression: '0 0 30 2 *' },
    },
    'schedule.expression',
  ],
  [
    'unknown time zone',
    {
      ...validTask,
      schedule: { ...validTask.schedule, timezone: 'Mars/Olympus_Mons' },
    },
    'schedule.timezone',
  ],
  [
    'missing time zone',
    { ...validTask, schedule: { type: 'cron', expression: '0 9 * * *' } },
    'schedule.timezone',
  ],
  [
    'end before start',
    {
      ...validTask,
      schedule: {
        ...validTask.schedule,
        startAt: future(7 * 86400e3),
        endAt: future(86400e3),
      },
    },
    'schedule.endAt',
  ],
  [
    'end already past',
    {
      ...validTask,
      schedule: { ...validTask.schedule, endAt: '2020-01-01T00:00:00Z' },
    },
    'schedule.endAt',
  ],
  [
    'window with no occurrence',
    {
      ...validTask,
      schedule: {
        type: 'cron',
        expression: '0 9 1 1 *',
        timezone: 'UTC',
        startAt: future(86400e3),
        endAt: future(2 * 86400e3),
      },
    },
    'schedule.expression',
  ],
  [
    'startAt not a date',
    { ...validTask, schedule: { ...validTask.schedule, startAt: 'tomorrow' } },
    'schedule.startAt',
  ],
  [
    'once in the past',
    { ...validTask, schedule: { type: 'once', at: '2020-01-01T00:00:00Z' } },
    'schedule.at',
  ],
  [
    'once without offset',
    { ...validTask, schedule: { type: 'once', at: '2030-01-01T09:00:00' } },
    'schedule.at',
  ],
  [
    'once not a date',
    { ...validTask, schedule: { type: 'once', at: 'soon' } },
    'schedule.at',
  ],
  [
    'once with impossible date',
    { ...validTask, schedule: { type: 'once', at: '2030-02-30T09:00:00Z' } },
    'schedule.at',
  ],
  [
    'unknown schedule field',
    { ...validTask, schedule: { ...validTask.schedule, jitter: 5 } },
    'schedule.jitter',
  ],
  ['unknown top-level field', { ...validTask, priority: 'high' }, 'priority'],
  [
    'server-owned field',
    { ...validTask, id: '00000000-0000-4000-8000-000000000000' },
    'id',
  ],
  ['state is not settable', { ...validTask, state: 'paused' }, 'state'],
  ['body is an array', [validTask], '(body)'],
  ['body is a string', 'hello', '(body)'],
  ['body is null', null, '(body)'],
];

describe.each(databaseIds)('REST API on %s', (databaseId: TestDatabaseId) => {
  let knex: Knex;
  let backend: Backend;
  let server: any;

  beforeAll(async () => {
    knex = await databases.init(databaseId);
    backend = await startLabSchedulerBackend(knex);
    server = backend.server;
  });

  afterAll(async () => {
    await backend.stop();
  });

  async function create(body: object = validTask, auth = asUser()) {
    const res = await request(server)
      .post(`${API}/tasks`)
      .set('Authorization', auth)
      .send(body);
    expect(res.status).toBe(201);
    return res.body;
  }

  it('answers /health without credentials', async () => {
    const res = await request(server).get(`${API}/health`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('rejects unauthenticated requests with 401', async () => {
    for (const [method, path] of [
      ['get', '/tasks'],
      ['post', '/tasks'],
      ['get', '/tasks/00000000-0000-4000-8000-000000000000'],
    ] as const) {
      const res = await (request(server) as any)[method](`${API}${path}`);
      expect(res.status).toBe(401);
    }
  });

  it('creates, reads, updates and deletes a task with an audit trail', async () => {
    const created = await create();
    expect(created).toMatchObject({
      name: validTask.name,
      description: validTask.description,
      instrumentRef: 'resource:default/plate-reader-1',
      owner: 'user:default/ada',
      state: 'active',
      version: 1,
      createdBy: 'user:default/ada',
      updatedBy: 'user:default/ada',
      lastRun: null,
      measurement: {
        type: 'absorbance-spectrum',
        parameters: expect.objectContaining({ startNm: 230 }),
      },
    });
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.createdAt).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
    );
    expect(Date.parse(created.nextRunAt)).toBeGreaterThan(Date.now());

    const read = await request(server)
      .get(`${API}/tasks/${created.id}`)
      .set('Authorization', asUser());
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created);

    const patched = await request(server)
      .patch(`${API}/tasks/${created.id}`)
      .set('Authorization', asUser())
      .send({ version: 1, name: '  Renamed — exactly as sent  ' });
    expect(patched.status).toBe(200);
    expect(patched.body.name).toBe('  Renamed — exactly as sent  ');
    expect(patched.body.version).toBe(2);

    const stale = await request(server)
      .patch(`${API}/tasks/${created.id}`)
      .set('Authorization', asUser())
      .send({ version: 1, name: 'Lost update' });
    expect(stale.status).toBe(409);
    expect(stale.body.error.name).toBe('ConflictError');

    const viaIfMatch = await request(server)
      .patch(`${API}/tasks/${created.id}`)
      .set('Authorization', asUser())
      .set('If-Match', '"2"')
      .send({ description: 'via If-Match' });
    expect(viaIfMatch.status).toBe(200);
    expect(viaIfMatch.body.version).toBe(3);

    const paused = await request(server)
      .post(`${API}/tasks/${created.id}/pause`)
      .set('Authorization', asUser());
    expect(paused.body).toMatchObject({
      state: 'paused',
      nextRunAt: null,
      version: 4,
    });
    const resumed = await request(server)
      .post(`${API}/tasks/${created.id}/resume`)
      .set('Authorization', asUser());
    expect(resumed.body.state).toBe('active');
    expect(resumed.body.nextRunAt).not.toBeNull();

    const deleted = await request(server)
      .delete(`${API}/tasks/${created.id}`)
      .set('Authorization', asUser());
    expect(deleted.status).toBe(204);
    const gone = await request(server)
      .get(`${API}/tasks/${created.id}`)
      .set('Authorization', asUser());
    expect(gone.status).toBe(404);

    const audit = await knex('lab_scheduler_audit')
      .where('task_id', created.id)
      .orderBy('seq');
    expect(audit.map(a => a.action)).toEqual([
      'create',
      'update',
      'update',
      'pause',
      'resume',
      'delete',
    ]);
    expect(JSON.parse(audit[1].before).name).toBe(validTask.name);
    expect(JSON.parse(audit[1].after).name).toBe(
      '  Renamed — exactly as sent  ',
    );
    expect(audit[5].after).toBeNull();
  });

  it('serves the audit trail through the API', async () => {
    const task = await create();
    await request(server)
      .post(`${API}/tasks/${task.id}/pause`)
      .set('Authorization', asUser());
    const res = await request(server)
      .get(`${API}/tasks/${task.id}/audit`)
      .set('Authorization', asUser());
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      expect.objectContaining({
        actor: 'user:default/ada',
        action: 'create',
        before: null,
      }),
      expect.objectContaining({
        action: 'pause',
        before: expect.objectContaining({ state: 'active' }),
        after: expect.objectContaining({ state: 'paused' }),
      }),
    ]);
  });

  it('keeps the audit table append-only in the database', async () => {
    const task = await create();
    await expect(
      knex('lab_scheduler_audit')
        .where('task_id', task.id)
        .update({ actor: 'mallory' }),
    ).rejects.toThrow(/append-only/);
    await expect(
      knex('lab_scheduler_audit').where('task_id', task.id).delete(),
    ).rejects.toThrow(/append-only/);
  });

  it('gives a one-time task a nextRunAt equal to its instant', async () => {
    const at = new Date(Math.ceil((Date.now() + 3600e3) / 1000) * 1000);
    const local = new Date(at.getTime()).toISOString().replace('Z', '+00:00');
    const task = await create({
      ...validTask,
      schedule: { type: 'once', at: local },
    });
    expect(task.schedule).toEqual({ type: 'once', at: at.toISOString() });
    expect(task.nextRunAt).toBe(at.toISOString());
  });

  it('requires an owner from services and uses it', async () => {
    const denied = await request(server)
      .post(`${API}/tasks`)
      .set('Authorization', asService())
      .send(validTask);
    expect(denied.status).toBe(400);
    expect(denied.body.error.message).toContain('owner');
    const task = await create(
      { ...validTask, owner: 'group:default/lab-ops' },
      asService(),
    );
    expect(task.owner).toBe('group:default/lab-ops');
    expect(task.createdBy).toMatch(/^service:/);
  });

  it('enforces permissions: 403 for non-owners and users without create', async () => {
    const task = await create({ ...validTask, owner: 'group:default/lab-ops' });
    const before = await counts(knex);
    const rosalind = asUser('user:default/rosalind');
    const patch = await request(server)
      .patch(`${API}/tasks/${task.id}`)
      .set('Authorization', rosalind)
      .send({ version: 1, name: 'hijack' });
    expect(patch.status).toBe(403);
    const del = await request(server)
      .delete(`${API}/tasks/${task.id}`)
      .set('Authorization', rosalind);
    expect(del.status).toBe(403);
    const pause = await request(server)
      .post(`${API}/tasks/${task.id}/pause`)
      .set('Authorization', rosalind);
    expect(pause.status).toBe(403);
    const createDenied = await request(server)
      .post(`${API}/tasks`)
      .set('Authorization', asUser('user:default/viewer'))
      .send(validTask);
    expect(createDenied.status).toBe(403);
    expect(await counts(knex)).toEqual(before);
    // Reading stays allowed, and a group member may change the group's task.
    expect(
      (
        await request(server)
          .get(`${API}/tasks/${task.id}`)
          .set('Authorization', rosalind)
      ).status,
    ).toBe(200);
    const marie = await request(server)
      .patch(`${API}/tasks/${task.id}`)
      .set('Authorization', asUser('user:default/ada'))
      .send({ version: 1, name: 'ok' });
    expect(marie.status).toBe(200);
  });

  it('answers 404 for unknown tasks and runs, 400 for malformed ids', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const path of [
      `/tasks/${unknown}`,
      `/tasks/${unknown}/runs`,
      `/tasks/${unknown}/audit`,
      `/runs/${unknown}`,
    ]) {
      const res = await request(server)
        .get(`${API}${path}`)
        .set('Authorization', asUser());
      expect(res.status).toBe(404);
      expect(res.body.error.name).toBe('NotFoundError');
    }
    const bad = await request(server)
      .get(`${API}/tasks/not-a-uuid`)
      .set('Authorization', asUser());
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('id');
  });

  it.each(badCreates)(
    'rejects a create with %s (400, names the field, stores nothing)',
    async (_what, body, field) => {
      const before = await counts(knex);
      const res = await request(server)
        .post(`${API}/tasks`)
        .set('Authorization', asUser())
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(body));
      expect(res.status).toBe(400);
      expect(res.body.error.name).toBe('InputError');
      expect(res.body.error.message).toContain(field);
      expect(res.body.error.details.map((d: any) => d.path)).toContain(field);
      expect(await counts(knex)).toEqual(before);
    },
  );

  it('rejects bodies that are not JSON, malformed or too large', async () => {
    const before = await counts(knex);
    const text = await request(server)
      .post(`${API}/tasks`)
      .set('Authorization', asUser())
      .set('Content-Type', 'text/plain')
      .send(JSON.stringify(validTask));
    expect(text.status).toBe(415);
    expect(text.body.error.message).toContain('application/json');
    const form = await request(server)
      .post(`${API}/tasks`)
      .set('Authorization', asUser())
      .type('form')
      .send({ name: 'x' });
    expect(form.status).toBe(415);
    const broken = await request(server)
      .post(`${API}/tasks`)
      .set('Authorization', asUser())
      .set('Content-Type', 'application/json')
      .send('{"name": ');
    expect(broken.status).toBe(400);
    expect(broken.body.error.message).toContain('not valid JSON');
    const huge = await request(server)
      .post(`${API}/tasks`)
      .set('Authorization', asUser())
      .send({ ...validTask, description: 'x'.repeat(70_000) });
    expect(huge.status).toBe(413);
    expect(await counts(knex)).toEqual(before);
  });

  describe('malformed updates', () => {
    let task: any;
    beforeAll(async () => {
      task = await create();
    });

    const badPatches: [string, object, string][] = [
      ['no version', { name: 'x' }, 'version'],
      ['version zero', { version: 0, name: 'x' }, 'version'],
      ['version as string', { version: '1', name: 'x' }, 'version'],
      ['empty name', { version: 1, name: '' }, 'name'],
      [
        'bad cron',
        {
          version: 1,
          schedule: { type: 'cron', expression: 'every day', timezone: 'UTC' },
        },
        'schedule.expression',
      ],
      [
        'past instant',
        { version: 1, schedule: { type: 'once', at: '2001-01-01T00:00:00Z' } },
        'schedule.at',
      ],
      [
        'unknown instrument',
        { version: 1, instrumentRef: 'resource:default/ghost' },
        'instrumentRef',
      ],
      [
        'unsupported type for instrument',
        { version: 1, instrumentRef: 'resource:default/ph-meter-1' },
        'measurement.type',
      ],
      ['unknown field', { version: 1, colour: 'blue' }, 'colour'],
      [
        'server-owned field',
        { version: 1, nextRunAt: '2030-01-01T00:00:00Z' },
        'nextRunAt',
      ],
    ];

    it.each(badPatches)('rejects %s', async (_what, body, field) => {
      const before = await counts(knex);
      const res = await request(server)
        .patch(`${API}/tasks/${task.id}`)
        .set('Authorization', asUser())
        .send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain(field);
      expect(await counts(knex)).toEqual(before);
    });

    it('rejects a malformed If-Match', async () => {
      const res = await request(server)
        .patch(`${API}/tasks/${task.id}`)
        .set('Authorization', asUser())
        .set('If-Match', 'abc')
        .send({ name: 'x' });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain('If-Match');
    });
  });

  const badQueries: [string, string, string][] = [
    ['limit 0', 'limit=0', 'limit'],
    ['limit 201', 'limit=201', 'limit'],
    ['limit not a number', 'limit=ten', 'limit'],
    ['limit fractional', 'limit=1.5', 'limit'],
    ['limit twice', 'limit=1&limit=2', 'limit'],
    ['malformed cursor', 'cursor=%%%', 'cursor'],
    ['forged cursor', 'cursor=eyJ4IjoxfQ', 'cursor'],
    ['unknown state', 'state=sleeping', 'state'],
    ['shorthand owner filter', 'owner=bob', 'owner'],
    ['shorthand instrument filter', 'instrument=plate-reader-1', 'instrument'],
    ['unknown query parameter', 'sort=name', 'sort'],
  ];

  it.each(badQueries)(
    'rejects a list query with %s',
    async (_what, query, field) => {
      const res = await request(server)
        .get(`${API}/tasks?${query}`)
        .set('Authorization', asUser());
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain(field);
    },
  );

  it('filters by instrument, owner, state and text', async () => {
    const marker = `marker-${Date.now()}`;
    const a = await create(
      {
        ...validTask,
        name: `${marker} Alpha`,
        owner: 'group:default/assay-dev',
      },
      asService(),
    );
    const b = await create({
      ...validTask,
      name: `Beta`,
      description: `about ${marker.toUpperCase()}`,
    });
    await request(server)
      .post(`${API}/tasks/${b.id}/pause`)
      .set('Authorization', asUser());
    const list = async (q: string) =>
      (
        await request(server)
          .get(`${API}/tasks?${q}`)
          .set('Authorization', asUser())
      ).body.items.map((t: any) => t.id);
    expect((await list(`text=${marker}`)).sort()).toEqual([a.id, b.id].sort());
    expect(await list(`text=${marker}&state=paused`)).toEqual([b.id]);
    expect(await list(`text=${marker}&owner=group:default/assay-dev`)).toEqual([
      a.id,
    ]);
    expect(
      await list(`text=${marker}&instrument=resource:default/ph-meter-1`),
    ).toEqual([]);
    expect(await list(`text=%25`)).toEqual([]); // % is matched literally
  });
});
