/*
 * npm run bench:api — the REST API at scale on this machine's PostgreSQL: every GET /tasks shape of
 * issue 14 at a million tasks, before and after the list indexes (migration 20261129020000) in one run,
 * then run history and audit pages at BENCH_RUNS run rows. Prints one JSON line per figure, each with
 * the machine's uptime and load (other processes share it), and writes the chart of list latency by
 * shape to docs/benchmark-api.svg. Not a test: numbers, no assertions.
 *
 * Scale with BENCH_TASKS (default 1000000), BENCH_REQUESTS (100 per shape, after BENCH_WARMUP = 5, but
 * no longer than BENCH_SHAPE_SECONDS = 60 and at least 10: a full scan under load takes seconds),
 * BENCH_RUNS (run rows for the history pages; default 0 = skip, e.g. 10000000), BENCH_AUDIT (audit rows,
 * default BENCH_RUNS / 10). The database lab_bench_api is dropped at the end unless BENCH_KEEP_DB=1.
 * BENCH_QUIET_LOAD (e.g. 1.5): before measuring the history pages, wait (up to BENCH_QUIET_WAIT_S, default
 * 1800) until the 1-minute load average is at most this, so that a long seeding can share the machine
 * while the measurement does not.
 */
import {
  coreServices,
  createServiceFactory,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { taskReadPermission } from '@lab-scheduler/plugin-lab-scheduler-common';
import knexFactory, { Knex } from 'knex';
import { writeFileSync } from 'node:fs';
import { loadavg, uptime } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createLabSchedulerTaskConditionalDecision,
  labSchedulerTaskConditions,
} from '../src/permissions/conditionExports';
import { labSchedulerPlugin } from '../src/plugin';
import { migrationsDir } from '../src/database/createStores';
import { MIGRATIONS_TABLE } from '../src/database/tables';
import { RunRetention } from '../src/retention/RunRetention';
import { latencyChartSvg } from './latencyChart';

const PG = process.env.BENCH_PG ?? 'postgresql://postgres@127.0.0.1:5432';
const DB = 'lab_bench_api';
const TASKS = Number(process.env.BENCH_TASKS ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 0);
const AUDIT = Number(process.env.BENCH_AUDIT ?? Math.round(RUNS / 10));
/** Longest time spent on one shape's requests (and again on its database share); at least 10 after warm-up. */
const SHAPE_SECONDS = Number(process.env.BENCH_SHAPE_SECONDS ?? 60);
const moreSamples = (i: number, startedAt: number) =>
  i < WARMUP + REQUESTS &&
  (i < WARMUP + 10 || performance.now() - startedAt < SHAPE_SECONDS * 1000);
const INSTRUMENTS = 50;
const OWNERS = 10;
/** The first migration of issue 14's list indexes: "before" is the schema without it. */
const LIST_INDEXES_MIGRATION = '20261129020000_task_list_indexes.js';
const MIGRATIONS = {
  directory: migrationsDir,
  tableName: MIGRATIONS_TABLE,
};
const USER = 'user:default/ada';
const USER_OWNERSHIP = [USER, 'group:default/owner-3'];

const print = (record: object) =>
  process.stdout.write(`${JSON.stringify(record)}\n`);

/** Waits until the machine is quiet (BENCH_QUIET_LOAD), and says how long it waited. */
async function untilQuiet(what: string) {
  const threshold = Number(process.env.BENCH_QUIET_LOAD ?? 0);
  if (!threshold) return;
  const maxMs = Number(process.env.BENCH_QUIET_WAIT_S ?? 1800) * 1000;
  const start = performance.now();
  while (loadavg()[0] > threshold && performance.now() - start < maxMs) {
    await new Promise(r => setTimeout(r, 10_000));
  }
  print({
    figure: 'waited_for_quiet',
    before: what,
    threshold,
    seconds: Math.round((performance.now() - start) / 1000),
    ...machine(),
  });
}

/** What else the machine is doing: other processes share its two cores. */
function machine() {
  const [load1, load5] = loadavg();
  return {
    uptime_s: Math.round(uptime()),
    load1: Number(load1.toFixed(2)),
    load5: Number(load5.toFixed(2)),
  };
}

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  const round = (n: number) => Number(n.toFixed(2));
  return {
    n: sorted.length,
    p50: round(at(50)),
    p95: round(at(95)),
    p99: round(at(99)),
    max: round(sorted[sorted.length - 1]),
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await fn();
  return [value, (performance.now() - t0) / 1000];
}

/** Users read the tasks they (or their groups) own; services read everything. */
const ownerPermissions = createServiceFactory({
  service: coreServices.permissions,
  deps: {},
  factory(): PermissionsService {
    const decide = (credentials: any) =>
      credentials.principal.type === 'user'
        ? createLabSchedulerTaskConditionalDecision(
            taskReadPermission,
            labSchedulerTaskConditions.isTaskOwner({ claims: USER_OWNERSHIP }),
          )
        : ({ result: AuthorizeResult.ALLOW } as const);
    return {
      async authorize(requests) {
        return requests.map(() => ({ result: AuthorizeResult.ALLOW })) as any;
      },
      async authorizeConditional(requests, { credentials }) {
        return requests.map(() => decide(credentials)) as any;
      },
    };
  },
});

/** Tasks over 50 instruments and 10 owners; 1% paused, 5% completed; random hex in each description. */
async function seedTasks(knex: Knex, count: number) {
  await knex.raw(
    `insert into lab_scheduler_tasks (id, name, description, instrument_ref, owner, measurement_type,
       measurement_parameters, schedule_type, schedule, state, next_run_at, sort_at, version,
       created_at, created_by, updated_at, updated_by)
     select md5('task' || g)::uuid::text,
       'Task ' || g || ' ' || (array['absorbance', 'weighing', 'pH', 'viscosity', 'osmolality'])[(1 + g % 5)::int],
       'Measurement of sample ' || md5(g::text),
       'resource:default/instrument-' || (g % ?),
       'group:default/owner-' || ((g / ?) % ?),
       'absorbance-spectrum', '{}', 'cron',
       '{"type":"cron","expression":"0 * * * *","timeZone":"UTC"}',
       case when g % 100 = 37 then 'paused' when g % 20 = 3 then 'completed' else 'active' end,
       case when g % 100 = 37 or g % 20 = 3 then null else ?::bigint + (g * 7919 % 43200) * 60000 end,
       case when g % 100 = 37 or g % 20 = 3 then 8640000000000000 else ?::bigint + (g * 7919 % 43200) * 60000 end,
       1, ?::bigint, 'user:default/ada', ?::bigint, 'user:default/ada'
     from generate_series(1, ?::bigint) g`,
    [
      INSTRUMENTS,
      INSTRUMENTS,
      OWNERS,
      Date.now(),
      Date.now(),
      Date.now(),
      Date.now(),
      count,
    ],
  );
}

/** `runs` finished runs over `runs / 1000` tasks (1,000 a task), and `audit` audit entries over them. */
async function seedHistory(knex: Knex, runs: number, audit: number) {
  const tasks = Math.max(1, Math.round(runs / 1000));
  const start = Date.now() - 400 * 86_400_000;
  await knex.raw(
    `insert into lab_scheduler_runs (id, task_id, scheduled_for, status, attempt, created_at,
       finished_at, started_at, instrument_ref, publish_failures)
     select '00000000-0000-7000-8000-' || lpad(to_hex(g), 12, '0'),
       md5('task' || (1 + g % ?))::uuid::text,
       ?::bigint + (g / ?) * 60000, 'succeeded', 1, ?::bigint + (g / ?) * 60000,
       ?::bigint + (g / ?) * 60000 + 1000, ?::bigint + (g / ?) * 60000 + 10,
       'resource:default/instrument-' || ((1 + g % ?) % ?), 0
     from generate_series(1, ?::bigint) g`,
    [tasks, start, tasks, start, tasks, start, tasks, start, tasks]
      .concat([tasks, INSTRUMENTS, runs])
      .map(Number),
  );
  await knex.raw(
    `insert into lab_scheduler_audit (task_id, at, actor, action, before, after)
     select md5('task' || (1 + g % ?))::uuid::text, ?::bigint + g, 'user:default/ada', 'update', '{}', '{}'
     from generate_series(1, ?::bigint) g`,
    [tasks, start, audit],
  );
  await knex.raw('analyze lab_scheduler_runs');
  await knex.raw('analyze lab_scheduler_audit');
  return { tasks, taskId: await taskId(knex, 1) };
}

async function taskId(knex: Knex, g: number): Promise<string> {
  const { rows } = await knex.raw(
    `select md5('task' || ?::int)::uuid::text as id`,
    [g],
  );
  return rows[0].id;
}

type Shape = {
  shape: string;
  /** Path and query below /api/lab-scheduler; a function when it needs a cursor fetched first. */
  path: string | (() => Promise<string>);
  asUser?: boolean;
};

type Statement = { sql: string; bindings: unknown[] };

/** The SELECTs one request sends to the database (the knex instance the backend uses). */
async function statementsOf(
  knex: Knex,
  request: () => Promise<unknown>,
): Promise<Statement[]> {
  const captured: Statement[] = [];
  const onQuery = (q: { sql: string; bindings?: unknown[] }) => {
    if (/^\s*select/i.test(q.sql))
      captured.push({ sql: q.sql, bindings: q.bindings ?? [] });
  };
  knex.on('query', onQuery);
  try {
    await request();
  } finally {
    knex.removeListener('query', onQuery);
  }
  return captured;
}

/**
 * The database's share of a request: its SELECTs sent again from here, without HTTP and the plugin
 * (latency per request, client side), and their EXPLAIN ANALYZE execution time and indexes (server side).
 */
async function measureDatabase(
  knex: Knex,
  statements: Statement[],
): Promise<{
  db_n: number;
  db_p50: number;
  db_p99: number;
  db_execution_ms: number;
  db_indexes: string[];
}> {
  const connection = await knex.client.acquireConnection();
  try {
    const latencies: number[] = [];
    const startedAt = performance.now();
    for (let i = 0; moreSamples(i, startedAt); i++) {
      const t0 = performance.now();
      for (const { sql, bindings } of statements) {
        await connection.query(sql, bindings);
      }
      if (i >= WARMUP) latencies.push(performance.now() - t0);
    }
    let executionMs = 0;
    const indexes = new Set<string>();
    for (const { sql, bindings } of statements) {
      const { rows } = await connection.query(
        `explain (analyze, format json) ${sql}`,
        bindings,
      );
      const [plan] = rows[0]['QUERY PLAN'];
      executionMs += plan['Execution Time'];
      for (const name of JSON.stringify(plan).matchAll(
        /"Index Name":"([^"]+)"/g,
      )) {
        indexes.add(name[1]);
      }
    }
    const db = percentiles(latencies);
    return {
      db_n: db.n,
      db_p50: db.p50,
      db_p99: db.p99,
      db_execution_ms: Number(executionMs.toFixed(2)),
      db_indexes: [...indexes],
    };
  } finally {
    await knex.client.releaseConnection(connection);
  }
}

async function measure(
  baseUrl: string,
  phase: string,
  shapes: Shape[],
  knex: Knex,
): Promise<
  Array<{
    shape: string;
    phase: string;
    p50: number;
    p99: number;
    db_p50: number;
    db_p99: number;
  }>
> {
  const results = [];
  for (const { shape, path: pathOf, asUser } of shapes) {
    const path = typeof pathOf === 'string' ? pathOf : await pathOf();
    const headers = {
      Authorization: asUser
        ? mockCredentials.user.header(USER)
        : mockCredentials.service.header(),
    };
    const latencies: number[] = [];
    let items = 0;
    const startedAt = performance.now();
    for (let i = 0; moreSamples(i, startedAt); i++) {
      const t0 = performance.now();
      const res: Response = await fetch(`${baseUrl}${path}`, { headers });
      const body = await res.json();
      const ms = performance.now() - t0;
      if (!res.ok)
        throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
      items = body.items.length;
      if (i >= WARMUP) latencies.push(ms);
    }
    const statements = await statementsOf(knex, () =>
      fetch(`${baseUrl}${path}`, { headers }).then(r => r.json()),
    );
    const record = {
      figure: 'api_latency_ms',
      phase,
      shape,
      items,
      ...percentiles(latencies),
      ...(await measureDatabase(knex, statements)),
      ...machine(),
    };
    print(record);
    results.push({
      shape,
      phase,
      p50: record.p50,
      p99: record.p99,
      db_p50: record.db_p50,
      db_p99: record.db_p99,
    });
  }
  return results;
}

/** A result's database-only figures, for the chart. */
const databaseShare = (r: {
  shape: string;
  db_p50: number;
  db_p99: number;
}) => ({
  shape: r.shape,
  p50: r.db_p50,
  p99: r.db_p99,
});

async function cursorOfPage(baseUrl: string, query: string, page: number) {
  let cursor: string | null = null;
  for (let i = 1; i < page; i++) {
    const res: Response = await fetch(
      `${baseUrl}/tasks?${query}${cursor ? `&cursor=${cursor}` : ''}`,
      { headers: { Authorization: mockCredentials.service.header() } },
    );
    cursor = (await res.json()).nextCursor;
  }
  return cursor!;
}

async function explain(
  knex: Knex,
  label: string,
  sql: string,
  bindings: any[],
) {
  const { rows } = await knex.raw(
    `explain (analyze, buffers) ${sql}`,
    bindings,
  );
  print({
    figure: 'plan',
    shape: label,
    plan: rows.map((r: any) => r['QUERY PLAN']).join('\n'),
  });
}

async function main() {
  const admin = knexFactory({ client: 'pg', connection: `${PG}/postgres` });
  await admin.raw(`drop database if exists ${DB} with (force)`);
  await admin.raw(`create database ${DB}`);
  const knex = knexFactory({
    client: 'pg',
    connection: `${PG}/${DB}`,
    pool: { min: 1, max: 10 },
  });

  // The schema before the list indexes.
  for (;;) {
    const [, pending] = await knex.migrate.list(MIGRATIONS);
    const next = pending[0]?.file;
    if (!next || next >= LIST_INDEXES_MIGRATION) break;
    await knex.migrate.up(MIGRATIONS);
  }
  // Started first: a backend that cannot start fails the run before the long seeding.
  const backend = await startTestBackend({
    features: [
      labSchedulerPlugin,
      mockServices.database.factory({ knex, migrations: { skip: true } }),
      mockServices.rootConfig.factory({
        data: {
          labScheduler: {
            dispatcher: { enabled: false },
            instruments: { validateWithCatalog: false },
          },
        },
      }),
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
      catalogServiceMock.factory({ entities: [] }),
      ownerPermissions,
    ],
  });
  const baseUrl = `http://localhost:${backend.server.port()}/api/lab-scheduler`;

  const [, seedSeconds] = await timed(() => seedTasks(knex, TASKS));
  await knex.raw('vacuum analyze lab_scheduler_tasks');
  print({
    figure: 'seed',
    tasks: TASKS,
    seconds: Number(seedSeconds.toFixed(1)),
    ...machine(),
  });
  // The code under test reads the text filter's side table; before it existed, the filter lowered and
  // matched every task's name and description: a view of the tasks gives the new code that old scan.
  await knex.raw(`create view lab_scheduler_task_search as
    select id as task_id, lower(name) || chr(31) || lower(description) as document
    from lab_scheduler_tasks`);
  // Likewise the next runs (migration 20261129120000 moves them out of the task rows): the old column.
  await knex.raw(`create view lab_scheduler_next_runs as
    select id as task_id, next_run_at from lab_scheduler_tasks
    where next_run_at is not null and state = 'active' and deleted_at is null`);

  // Ten hex digits of one task's description: matches that task (and, by chance, hardly any other).
  const selective = (
    await knex.raw(`select substr(md5(?::text), 3, 10) as t`, [
      Math.ceil(TASKS / 2),
    ])
  ).rows[0].t;
  const shapes: Shape[] = [
    { shape: 'first page (limit 50)', path: '/tasks?limit=50' },
    {
      shape: 'page 51 via cursor (limit 200)',
      path: async () =>
        `/tasks?limit=200&cursor=${await cursorOfPage(
          baseUrl,
          'limit=200',
          51,
        )}`,
    },
    {
      shape: 'instrument= filter',
      path: '/tasks?limit=50&instrument=resource:default/instrument-7',
    },
    {
      shape: 'owner= filter',
      path: '/tasks?limit=50&owner=group:default/owner-3',
    },
    { shape: 'state=paused', path: '/tasks?limit=50&state=paused' },
    {
      shape: 'text= selective match',
      path: `/tasks?limit=50&text=${selective}`,
    },
    { shape: 'text= no match', path: '/tasks?limit=50&text=no-such-sample' },
    {
      shape: 'first page as a user (permission conditions)',
      path: '/tasks?limit=50',
      asUser: true,
    },
  ];
  const textShapes = shapes.filter(s => s.shape.startsWith('text='));

  const before = await measure(baseUrl, 'before', shapes, knex);

  await knex.raw('drop view lab_scheduler_task_search');
  await knex.raw('drop view lab_scheduler_next_runs');
  const [, migrateSeconds] = await timed(() => knex.migrate.latest(MIGRATIONS));
  await knex.raw('vacuum analyze');
  print({
    figure: 'migration',
    migration: LIST_INDEXES_MIGRATION,
    tasks: TASKS,
    seconds: Number(migrateSeconds.toFixed(1)),
    ...machine(),
  });
  const after = await measure(baseUrl, 'after', shapes, knex);

  for (const [label, sql, bindings] of [
    [
      'state=paused',
      `select id from lab_scheduler_tasks where deleted_at is null and state = ? order by sort_at, id limit 51`,
      ['paused'],
    ],
    [
      'text= selective match',
      `select id from lab_scheduler_tasks where deleted_at is null and id in
        (select task_id from lab_scheduler_task_search where document like ?) order by sort_at, id limit 51`,
      [`%${selective}%`],
    ],
    [
      'first page as a user (permission conditions)',
      `select id from lab_scheduler_tasks where deleted_at is null and owner in (?, ?) order by sort_at, id limit 51`,
      USER_OWNERSHIP,
    ],
  ] as Array<[string, string, any[]]>) {
    await explain(knex, label, sql, bindings);
  }

  // Without pg_trgm: what a database that could not install it gets (see the migration's warning).
  await knex.raw('drop index lab_scheduler_task_search_trgm_idx');
  const fallback = await measure(
    baseUrl,
    'after, without pg_trgm',
    textShapes,
    knex,
  );
  await knex.raw(
    'create index lab_scheduler_task_search_trgm_idx on lab_scheduler_task_search using gin (document gin_trgm_ops)',
  );

  const chart = latencyChartSvg({
    title: `GET /tasks at ${TASKS.toLocaleString(
      'en-US',
    )} tasks: p99 and p50 by shape (ms, log scale)`,
    shapes: shapes.map(s => s.shape),
    series: [
      { label: 'before, HTTP', results: before },
      { label: 'after, HTTP', results: after },
      { label: 'after without pg_trgm, HTTP', results: fallback },
      { label: 'before, database', results: before.map(databaseShare) },
      { label: 'after, database', results: after.map(databaseShare) },
    ],
  });
  const chartPath = resolve(__dirname, '../../../docs/benchmark-api.svg');
  writeFileSync(chartPath, chart);
  print({ figure: 'chart', path: 'docs/benchmark-api.svg' });

  if (RUNS > 0) {
    const [{ taskId: hot }, historySeconds] = await timed(() =>
      seedHistory(knex, RUNS, AUDIT),
    );
    const { rows } = await knex.raw(
      `select pg_size_pretty(pg_total_relation_size('lab_scheduler_runs')) as runs,
              pg_size_pretty(pg_database_size(current_database())) as db`,
    );
    print({
      figure: 'seed_history',
      runs: RUNS,
      audit: AUDIT,
      seconds: Number(historySeconds.toFixed(1)),
      runs_table_size: rows[0].runs,
      database_size: rows[0].db,
      ...machine(),
    });
    const deepCursor = async (what: string) => {
      let cursor: string | null = null;
      for (let i = 1; i < 10; i++) {
        const res: Response = await fetch(
          `${baseUrl}/tasks/${hot}/${what}?limit=50${
            cursor ? `&cursor=${cursor}` : ''
          }`,
          { headers: { Authorization: mockCredentials.service.header() } },
        );
        cursor = (await res.json()).nextCursor;
      }
      return `/tasks/${hot}/${what}?limit=50&cursor=${cursor}`;
    };
    await untilQuiet('history pages');
    const historyShapes: Shape[] = [
      {
        shape: 'run history first page (limit 50)',
        path: `/tasks/${hot}/runs?limit=50`,
      },
      {
        shape: 'run history page 10 via cursor',
        path: () => deepCursor('runs'),
      },
      {
        shape: 'audit first page (limit 50)',
        path: `/tasks/${hot}/audit?limit=50`,
      },
      { shape: 'audit page 10 via cursor', path: () => deepCursor('audit') },
    ];
    await measure(baseUrl, `history at ${RUNS} runs`, historyShapes, knex);

    // The retention sweep on that history (every run is 400 days old: all but the newest 10 of each
    // task go), the same pages read while it deletes; stopped after the pages are measured.
    const retention = new RunRetention({
      knex,
      settings: {
        keepFinishedRunsMs: 30 * 86_400_000,
        keepLastRunsPerTask: 10,
        batchSize: 500,
        pauseBetweenBatchesMs: 20,
        frequencyMs: 10 * 60_000,
      },
    });
    const abort = new AbortController();
    const sweepStart = performance.now();
    const sweeping = retention.sweep(Date.now(), abort.signal);
    await measure(
      baseUrl,
      'history during a retention sweep',
      [historyShapes[0], historyShapes[2]],
      knex,
    );
    abort.abort();
    const swept = await sweeping;
    const sweepSeconds = (performance.now() - sweepStart) / 1000;
    print({
      figure: 'retention_sweep',
      ...swept,
      seconds: Number(sweepSeconds.toFixed(1)),
      runs_deleted_per_s: Math.round(swept.runs / sweepSeconds),
      ms_per_batch: Number(((sweepSeconds * 1000) / swept.batches).toFixed(1)),
      ...machine(),
    });
  }

  await backend.stop();
  await knex.destroy();
  if (process.env.BENCH_KEEP_DB !== '1') {
    await admin.raw(`drop database if exists ${DB} with (force)`);
  }
  await admin.destroy();
}

main().then(
  () => process.exit(0),
  error => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
  },
);
