import { TestDatabaseId } from '@backstage/backend-test-utils';
import { encodeCursor } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import request from 'supertest';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { validTask } from '../__testUtils__/fixtures';
import {
  asService,
  asUser,
  startLabSchedulerBackend,
} from '../__testUtils__/testBackend';

/**
 * The hostile-input suite: bad and malicious input on every route that takes input, on SQLite and
 * PostgreSQL, as a user and as a service. Each case must be refused with a 4xx whose message names the
 * field, and leave every table of the plugin exactly as it was.
 */

jest.setTimeout(120_000);

const databases = createTestDatabases();
const API = '/api/lab-scheduler';

type Principal = 'user' | 'service';
type Backend = Awaited<ReturnType<typeof startLabSchedulerBackend>>;

/** What a case works on: a task the caller may change and one of its runs. */
interface Target {
  taskId: string;
  runId: string;
}

interface HostileCase {
  what: string;
  method: 'get' | 'post' | 'patch';
  path: (t: Target) => string;
  /** A JSON body, sent as text so that lone surrogates reach the server as `\ud800` escapes. */
  body?: (principal: Principal) => unknown;
  /** The field the message must name. */
  field: string;
  status?: number;
  /** Principals to run it as; both unless given. */
  as?: Principal[];
}

const YEAR_MS = 365.25 * 86_400_000;
const inYears = (years: number) =>
  new Date(Date.now() + years * YEAR_MS).toISOString();

/** A valid create body for the principal (a service must name an owner). */
const validCreate = (principal: Principal) =>
  principal === 'service'
    ? { ...validTask, owner: 'group:default/lab-ops' }
    : { ...validTask };

const create =
  (change: Record<string, unknown>) =>
  (principal: Principal): unknown => ({ ...validCreate(principal), ...change });
const withSchedule = (change: Record<string, unknown>) =>
  create({ schedule: { ...validTask.schedule, ...change } });
const withMeasurement = (measurement: unknown) => create({ measurement });
const withParameters = (parameters: unknown) =>
  withMeasurement({ type: 'absorbance-spectrum', parameters });
/** A measurement parameter object with one prototype key, as JSON.parse makes it (an own key). */
const prototypeKey = (key: string, inner = '{"startNm":300}') =>
  JSON.parse(`{"${key}":${inner}}`);
const nestedObject = (depth: number): unknown =>
  depth === 0 ? 1 : { a: nestedObject(depth - 1) };
/**
 * A list nested `depth` deep: too deep for the test's own JSON.stringify, so it stands as a marker in
 * the body and is spliced into the JSON text (see toJsonText).
 */
const nestedList = (depth: number): unknown => `<nested list ${depth}>`;
const toJsonText = (body: unknown) =>
  JSON.stringify(body).replace(
    /"<nested list (\d+)>"/g,
    (_m, depth) => `${'['.repeat(Number(depth))}${']'.repeat(Number(depth))}`,
  );

/** Text that must not reach a name, description or any other free-text field. */
const hostileText: [string, string][] = [
  ['NUL', 'blank\u0000check'],
  ['SOH', 'blank\u0001check'],
  ['ESC sequence', 'blank\u001B[31mred'],
  ['DEL', 'blank\u007F'],
  ['C1 next-line', 'blank\u0085check'],
  ['U+202A left-to-right embedding', '\u202Ablank'],
  ['U+202B right-to-left embedding', '\u202Bblank'],
  ['U+202C pop directional formatting', 'blank\u202C'],
  ['U+202D left-to-right override', '\u202Dblank'],
  ['U+202E right-to-left override', 'report\u202Efdp.exe'],
  ['U+2066 left-to-right isolate', '\u2066blank'],
  ['U+2067 right-to-left isolate', '\u2067blank'],
  ['U+2068 first-strong isolate', '\u2068blank'],
  ['U+2069 pop directional isolate', 'blank\u2069'],
  ['U+FFFE', 'blank\uFFFE'],
  ['U+FFFF', 'blank\uFFFF'],
  ['a lone high surrogate', 'blank\uD800'],
  ['a lone low surrogate', '\uDC00blank'],
];

/** Names that display as nothing, or break onto several lines. */
const hostileNames: [string, string][] = [
  ['only U+200B', '\u200B'],
  ['only U+FEFF', '\uFEFF'],
  ['only spaces and U+200B', ' \u200B \u200B '],
  ['only U+2060 and U+00AD', '\u2060\u00AD'],
  ['a line break', 'blank\ncheck'],
  ['a tab', 'blank\tcheck'],
  ['201 emoji', '🧪'.repeat(201)],
];

const taskPath = (t: Target) => `/tasks/${t.taskId}`;
const patch = (change: Record<string, unknown>) => () => ({
  version: 1,
  ...change,
});
const event = (body: Record<string, unknown>) => () => body;
const eventsPath = (t: Target) => `/runs/${t.runId}/events`;
const validResult = {
  measurementType: 'absorbance-spectrum',
  driver: 'simulated',
  summary: { peakNm: 260 },
  qc: { status: 'pass', checks: [] },
  rawData: { uri: 'file:///tmp/raw.json', bytes: 10, sha256: 'a'.repeat(64) },
  durationMs: 5,
};
const succeeded = (result: Record<string, unknown>) =>
  event({ type: 'succeeded', result: { ...validResult, ...result } });
const cursorOf = (k: number, id: string) =>
  encodeURIComponent(encodeCursor({ k, id }));
const forgedCursor = (json: string) =>
  Buffer.from(json, 'utf8').toString('base64url');

const cases: HostileCase[] = [
  // POST /tasks: free text
  ...hostileText.flatMap(([what, text]): HostileCase[] => [
    {
      what: `create: name with ${what}`,
      method: 'post',
      path: () => '/tasks',
      body: create({ name: text }),
      field: 'name',
    },
    {
      what: `create: description with ${what}`,
      method: 'post',
      path: () => '/tasks',
      body: create({ description: text }),
      field: 'description',
    },
  ]),
  ...hostileNames.map(
    ([what, name]): HostileCase => ({
      what: `create: name of ${what}`,
      method: 'post',
      path: () => '/tasks',
      body: create({ name }),
      field: 'name',
    }),
  ),
  ...[
    ['NUL', 'S-1\u0000'],
    ['U+202E', 'S-\u202E1'],
    ['U+FFFF', 'S-1\uFFFF'],
    ['a lone surrogate', 'S-1\uD83E'],
  ].map(
    ([what, sampleId]): HostileCase => ({
      what: `create: sample id with ${what}`,
      method: 'post',
      path: () => '/tasks',
      body: withParameters({ sampleId }),
      field: 'measurement.parameters.sampleId',
    }),
  ),
  ...[
    ['NUL', 'resource:default/plate-reader-1\u0000'],
    ['U+202E', 'resource:default/plate\u202E-reader-1'],
  ].flatMap(([what, ref]): HostileCase[] => [
    {
      what: `create: instrumentRef with ${what}`,
      method: 'post',
      path: () => '/tasks',
      body: create({ instrumentRef: ref }),
      field: 'instrumentRef',
    },
    {
      what: `create: owner with ${what}`,
      method: 'post',
      path: () => '/tasks',
      body: create({ owner: ref.replace('resource', 'group') }),
      field: 'owner',
    },
  ]),
  // POST /tasks: measurement types that are members of Object.prototype, and prototype keys
  ...[
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'absorbance-spectrum\u0000',
    'x'.repeat(101),
  ].map(
    (type): HostileCase => ({
      what: `create: measurement type ${JSON.stringify(type).slice(0, 40)}`,
      method: 'post',
      path: () => '/tasks',
      body: withMeasurement({ type, parameters: {} }),
      field: 'measurement.type',
    }),
  ),
  ...['__proto__', 'constructor', 'prototype'].flatMap((key): HostileCase[] => [
    {
      what: `create: parameter key ${key}`,
      method: 'post',
      path: () => '/tasks',
      body: withParameters(prototypeKey(key)),
      field: `measurement.parameters.${key}`,
    },
    {
      what: `create: QC key ${key}`,
      method: 'post',
      path: () => '/tasks',
      body: withParameters({ qc: prototypeKey(key, '{"x":1}') }),
      field: `measurement.parameters.qc.${key}`,
    },
  ]),
  {
    what: 'create: a QC window whose lowest threshold is above its highest',
    method: 'post',
    path: () => '/tasks',
    body: withParameters({
      qc: { minPeakAbsorbance: 2, maxPeakAbsorbance: 1 },
    }),
    field: 'measurement.parameters.qc.minPeakAbsorbance',
  },
  {
    what: 'create: parameters nested 5 deep',
    method: 'post',
    path: () => '/tasks',
    body: withParameters({ qc: nestedObject(4) }),
    field: 'measurement.parameters',
  },
  {
    what: 'create: parameters nested 20000 deep',
    method: 'post',
    path: () => '/tasks',
    body: withParameters({ qc: nestedList(20_000) }),
    field: 'measurement.parameters',
  },
  {
    what: 'create: top-level __proto__ key',
    method: 'post',
    path: () => '/tasks',
    body: p => ({
      ...validCreate(p),
      ...JSON.parse('{"__proto__":{"state":"paused"}}'),
    }),
    field: '__proto__',
  },
  {
    what: 'create: top-level constructor key',
    method: 'post',
    path: () => '/tasks',
    body: create({ constructor: { name: 'x' } }),
    field: 'constructor',
  },
  // POST /tasks: time zones
  ...[
    '+05:00',
    '-03:00',
    '+0530',
    'UTC+5',
    'GMT+05:00',
    '',
    'Europe/Berlin\u0000',
    'Europe/Berlin ',
    '../../etc/passwd',
    `Europe/${'x'.repeat(60)}`,
  ].map(
    (timezone): HostileCase => ({
      what: `create: time zone ${JSON.stringify(timezone).slice(0, 30)}`,
      method: 'post',
      path: () => '/tasks',
      body: withSchedule({ timezone }),
      field: 'schedule.timezone',
    }),
  ),
  // POST /tasks: cron extensions that must not be ignored
  ...[
    '0 9 * * 1#6',
    '0 9 * * 1#2,3',
    '0 9 15W * *',
    '0 9 LW * *',
    'H 9 * * *',
    '0 9 * * L',
    '0 9 * * 1\u0000',
    '0 9 L-2 * *',
  ].map(
    (expression): HostileCase => ({
      what: `create: cron ${JSON.stringify(expression)}`,
      method: 'post',
      path: () => '/tasks',
      body: withSchedule({ expression }),
      field: 'schedule.expression',
    }),
  ),
  // POST /tasks: instants
  ...[
    ['11 years ahead', inYears(11)],
    ['the year 9999', '9999-12-31T23:59:59Z'],
    ['an expanded year', '+275760-09-13T00:00:00Z'],
    ['a NUL before the offset', '2030-01-01T00:00:00\u0000Z'],
  ].map(
    ([what, at]): HostileCase => ({
      what: `create: once at ${what}`,
      method: 'post',
      path: () => '/tasks',
      body: create({ schedule: { type: 'once', at } }),
      field: 'schedule.at',
    }),
  ),
  {
    what: 'create: startAt 11 years ahead',
    method: 'post',
    path: () => '/tasks',
    body: withSchedule({ startAt: inYears(11) }),
    field: 'schedule.startAt',
  },
  {
    what: 'create: endAt 50 years ahead',
    method: 'post',
    path: () => '/tasks',
    body: withSchedule({ endAt: inYears(50) }),
    field: 'schedule.endAt',
  },
  // POST /tasks: numbers beyond the columns
  ...[
    ['misfireWindowSeconds', 2 ** 31],
    ['misfireWindowSeconds', 1e308],
    ['instrumentConcurrency', 2 ** 31],
    ['instrumentConcurrency', -1],
  ].map(
    ([field, value]): HostileCase => ({
      what: `create: ${field} of ${value}`,
      method: 'post',
      path: () => '/tasks',
      body: create({ policies: { [field]: value } }),
      field: `policies.${field}`,
    }),
  ),

  // PATCH /tasks/:id
  ...hostileText.slice(0, 6).map(
    ([what, name]): HostileCase => ({
      what: `update: name with ${what}`,
      method: 'patch',
      path: taskPath,
      body: patch({ name }),
      field: 'name',
    }),
  ),
  ...[
    ['name', '\u200B\uFEFF'],
    ['description', 'note\u0000'],
    ['description', 'note\u202E'],
    ['description', 'note\uD800'],
  ].map(
    ([field, value]): HostileCase => ({
      what: `update: ${field} ${JSON.stringify(value)}`,
      method: 'patch',
      path: taskPath,
      body: patch({ [field]: value }),
      field,
    }),
  ),
  {
    what: 'update: measurement type __proto__',
    method: 'patch',
    path: taskPath,
    body: patch({ measurement: { type: '__proto__', parameters: {} } }),
    field: 'measurement.type',
  },
  {
    what: 'update: parameter key __proto__',
    method: 'patch',
    path: taskPath,
    body: patch({
      measurement: {
        type: 'absorbance-spectrum',
        parameters: prototypeKey('__proto__'),
      },
    }),
    field: 'measurement.parameters.__proto__',
  },
  {
    what: 'update: time zone +05:00',
    method: 'patch',
    path: taskPath,
    body: patch({
      schedule: { type: 'cron', expression: '0 9 * * *', timezone: '+05:00' },
    }),
    field: 'schedule.timezone',
  },
  {
    what: 'update: cron with W',
    method: 'patch',
    path: taskPath,
    body: patch({
      schedule: { type: 'cron', expression: '0 9 15W * *', timezone: 'UTC' },
    }),
    field: 'schedule.expression',
  },
  {
    what: 'update: once 20 years ahead',
    method: 'patch',
    path: taskPath,
    body: patch({ schedule: { type: 'once', at: inYears(20) } }),
    field: 'schedule.at',
  },
  {
    what: 'update: version beyond a safe integer',
    method: 'patch',
    path: taskPath,
    body: patch({ version: 1e308, name: 'x' }),
    field: 'version',
  },

  // GET /tasks: filters and cursors
  ...[
    ['text', 'blank%00check'],
    ['text', 'blank%01'],
    ['text', 'blank%E2%80%AE'],
    ['text', 'blank%EF%BF%BF'],
    ['text', 'x'.repeat(201)],
    ['text', 'a&text=b'],
    ['text', 'x&text[a]=1'],
    ['state', 'active%00'],
    ['instrument', 'resource:default/plate-reader-1%00'],
    ['owner', 'user:default/ada%E2%80%AE'],
    ['limit', '1%00'],
    ['limit', String(2 ** 31)],
    ['cursor', '%00'],
    ['cursor', cursorOf(1, 'a\u0000')],
    ['cursor', cursorOf(1, "' or 1=1 --")],
    ['cursor', forgedCursor('[1e400,"a"]')],
    ['cursor', forgedCursor('[9007199254740993,"a"]')],
    ['cursor', forgedCursor('{"__proto__":1}')],
    ['cursor', 'A'.repeat(501)],
  ].map(
    ([field, value]): HostileCase => ({
      what: `list: ${field}=${value.slice(0, 40)}`,
      method: 'get',
      path: () => `/tasks?${field}=${value}`,
      field,
    }),
  ),

  // GET /tasks/:id/runs and /tasks/:id/audit
  ...['runs', 'audit'].flatMap((list): HostileCase[] =>
    [
      ['cursor', cursorOf(1, 'a\u0000')],
      ['cursor', forgedCursor('[1,"\\u0000"]')],
      ['cursor', '%00'],
      ['limit', '0'],
      ['limit', '1e3'],
      ['text', 'x'],
    ].map(([field, value]) => ({
      what: `${list}: ${field}=${value.slice(0, 40)}`,
      method: 'get',
      path: t => `/tasks/${t.taskId}/${list}?${field}=${value}`,
      field,
    })),
  ),

  // Task actions and reads: the id in the path
  ...['pause', 'resume', 'trigger'].flatMap((action): HostileCase[] =>
    ['%00', 'not-a-uuid', '..%2F..%2Fhealth', `${'0'.repeat(36)}%00`].map(
      id => ({
        what: `${action}: id ${id}`,
        method: 'post',
        path: () => `/tasks/${id}/${action}`,
        field: 'id',
      }),
    ),
  ),
  ...['runs', 'audit'].map(
    (list): HostileCase => ({
      what: `${list}: id with NUL`,
      method: 'get',
      path: () => `/tasks/%00/${list}`,
      field: 'id',
    }),
  ),

  // POST /runs/:id/events (the executor's reports)
  ...[2 ** 31, 2 ** 53, 1e308, 0, -1, 1.5, 1001].map(
    (attempt): HostileCase => ({
      what: `event: started with attempt ${attempt}`,
      method: 'post',
      path: eventsPath,
      body: event({ type: 'started', attempt }),
      field: 'attempt',
      as: ['service'],
    }),
  ),
  ...['tok\u0000en', '', 'x'.repeat(65), 'tok en', 'tøken', 42].map(
    (claimToken): HostileCase => ({
      what: `event: started with claimToken ${JSON.stringify(claimToken)}`,
      method: 'post',
      path: eventsPath,
      body: event({ type: 'started', attempt: 1, claimToken }),
      field: 'claimToken',
      as: ['service'],
    }),
  ),
  ...(['succeeded', 'failed'] as const).map(
    (type): HostileCase => ({
      what: `event: ${type} with a NUL in claimToken`,
      method: 'post',
      path: eventsPath,
      body: event(
        type === 'failed'
          ? { type, error: 'x', retrying: false, claimToken: 'a\u0000b' }
          : { type, result: validResult, claimToken: 'a\u0000b' },
      ),
      field: 'claimToken',
      as: ['service'],
    }),
  ),
  {
    what: 'event: started with attempt as a string',
    method: 'post',
    path: eventsPath,
    body: event({ type: 'started', attempt: '1' }),
    field: 'attempt',
    as: ['service'],
  },
  ...[
    ['NUL', 'driver failed\u0000'],
    ['ESC', 'driver \u001B[2J failed'],
    ['U+202E', 'driver \u202Efailed'],
    ['U+FFFF', 'driver failed\uFFFF'],
    ['a lone surrogate', 'driver failed\uDBFF'],
    ['nothing', ''],
    ['only invisible characters', '\u200B \uFEFF'],
    ['4001 characters', 'e'.repeat(4001)],
  ].map(
    ([what, error]): HostileCase => ({
      what: `event: failed with error of ${what}`,
      method: 'post',
      path: eventsPath,
      body: event({ type: 'failed', error, retrying: false }),
      field: 'error',
      as: ['service'],
    }),
  ),
  {
    what: 'event: failed with error as an object',
    method: 'post',
    path: eventsPath,
    body: event({ type: 'failed', error: { message: 'x' }, retrying: false }),
    field: 'error',
    as: ['service'],
  },
  {
    what: 'event: result nested 17 deep',
    method: 'post',
    path: eventsPath,
    body: succeeded({ summary: nestedObject(16) as object }),
    field: 'result',
    as: ['service'],
  },
  {
    what: 'event: result nested 30000 deep',
    method: 'post',
    path: eventsPath,
    body: succeeded({ summary: { curve: nestedList(30_000) } }),
    field: 'result',
    as: ['service'],
  },
  {
    what: 'event: result QC checks nested 30000 deep',
    method: 'post',
    path: eventsPath,
    body: succeeded({ qc: { status: 'pass', checks: [nestedList(30_000)] } }),
    field: 'result',
    as: ['service'],
  },
  {
    what: 'event: result with a __proto__ key in its summary',
    method: 'post',
    path: eventsPath,
    body: succeeded({ summary: prototypeKey('__proto__', '{"x":1}') }),
    field: 'result.summary.__proto__',
    as: ['service'],
  },
  {
    what: 'event: result with a NUL in its driver',
    method: 'post',
    path: eventsPath,
    body: succeeded({ driver: 'sim\u0000' }),
    field: 'result.driver',
    as: ['service'],
  },
  {
    what: 'event: result with a NUL in its raw data URI',
    method: 'post',
    path: eventsPath,
    body: succeeded({
      rawData: { ...validResult.rawData, uri: 'file:///tmp/a\u0000.json' },
    }),
    field: 'result.rawData.uri',
    as: ['service'],
  },
  {
    what: 'event: result with an unknown field',
    method: 'post',
    path: eventsPath,
    body: succeeded({ status: 'succeeded' }),
    field: 'result.status',
    as: ['service'],
  },
  {
    what: 'event: unknown event type __proto__',
    method: 'post',
    path: eventsPath,
    body: event({ type: '__proto__' }),
    field: 'type',
    as: ['service'],
  },
  {
    what: 'event: run id with NUL',
    method: 'post',
    path: () => `/runs/%00/events`,
    body: event({ type: 'started', attempt: 1 }),
    field: 'id',
    as: ['service'],
  },
];

/** Every row of every table of the plugin: nothing may differ after a refused request. */
async function snapshot(knex: Knex): Promise<Record<string, string>> {
  const tables: string[] =
    knex.client.config.client === 'pg'
      ? (
          await knex('information_schema.tables')
            .where('table_schema', knex.raw('current_schema()'))
            .where('table_name', 'like', 'lab\\_scheduler\\_%')
            .pluck('table_name')
        ).map(String)
      : (
          await knex('sqlite_master')
            .where('type', 'table')
            .where('name', 'like', 'lab_scheduler_%')
            .pluck('name')
        ).map(String);
  const result: Record<string, string> = {};
  for (const table of tables.filter(t => !t.includes('knex_migrations'))) {
    const rows = await knex(table).select();
    result[table] = JSON.stringify(rows.map(r => JSON.stringify(r)).sort());
  }
  return result;
}

const principals: Principal[] = ['user', 'service'];
const auth = (p: Principal) => (p === 'user' ? asUser() : asService());

/** Cases per principal, as `it.each` rows. */
const rows = principals.flatMap(principal =>
  cases
    .filter(c => (c.as ?? principals).includes(principal))
    .map(c => [principal, c.what, c] as const),
);

describe.each(databaseIds)(
  'hostile input on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let backend: Backend;
    let target: Target;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      backend = await startLabSchedulerBackend(knex);
      const created = await request(backend.server)
        .post(`${API}/tasks`)
        .set('Authorization', asUser())
        .send(validTask);
      if (created.status !== 201) {
        throw new Error(`setup: create answered ${created.status}`);
      }
      const triggered = await request(backend.server)
        .post(`${API}/tasks/${created.body.id}/trigger`)
        .set('Authorization', asUser());
      if (triggered.status !== 202) {
        throw new Error(`setup: trigger answered ${triggered.status}`);
      }
      target = { taskId: created.body.id, runId: triggered.body.id };
    });

    afterAll(async () => {
      await backend.stop();
    });

    it('has a task and a run for the cases to aim at', async () => {
      const tables = await snapshot(knex);
      expect(tables.lab_scheduler_tasks).toContain(target.taskId);
      expect(tables.lab_scheduler_runs).toContain(target.runId);
    });

    it.each(rows)(
      'as a %s: %s → 4xx naming the field, nothing stored',
      async (principal, _what, c) => {
        const before = await snapshot(knex);
        let req = (request(backend.server) as any)
          [c.method](`${API}${c.path(target)}`)
          .set('Authorization', auth(principal));
        if (c.body) {
          req = req
            .set('Content-Type', 'application/json')
            .send(toJsonText(c.body(principal)));
        }
        const res = await req;
        expect({ status: res.status, body: res.body }).toMatchObject({
          status: c.status ?? 400,
        });
        expect(res.body.error.message).toContain(c.field);
        expect(res.body.error.details.map((d: any) => d.path)).toContain(
          c.field,
        );
        expect(await snapshot(knex)).toEqual(before);
      },
    );
  },
);

it('runs at least 200 cases', () => {
  expect(rows.length * databaseIds.length).toBeGreaterThanOrEqual(200);
});
