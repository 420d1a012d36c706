/*
 * npm run bench — Lab Scheduler dispatcher vs graphile-worker on this machine's PostgreSQL.
 * Prints one JSON line per figure (each with the machine's `uptime` when it was taken) and draws the
 * lateness percentiles into an SVG chart (BENCH_CHART, default docs/benchmark-dispatch.svg).
 * Scale with BENCH_DRAIN (default 100000), BENCH_RATE (200/s) and BENCH_SECONDS (30), BENCH_HIGH_RATE
 * (2000/s) and BENCH_HIGH_SECONDS (20), BENCH_CLAIM_COUNTS (stored tasks for the claim cost,
 * 10000,100000,1000000). Not a test: numbers, no assertions.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { ChildProcess, execSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import knexFactory, { Knex } from 'knex';
import { startWorker, WorkerProcess } from '../src/__testUtils__/processes';
import { noGuards, seedDueTasks, seedTasks } from '../src/__testUtils__/seed';
import { createQueue, startFauxqsProcess } from '../src/__testUtils__/sqs';
import { applyDatabaseMigrations } from '../src/database/createStores';
import { DispatchStore } from '../src/database/DispatchStore';
import { LatenessRow, latenessChartSvg } from './latenessChart';

const PG = process.env.BENCH_PG ?? 'postgresql://postgres@127.0.0.1:5432';
const DRAIN = Number(process.env.BENCH_DRAIN ?? 100_000);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const HIGH_RATE = Number(process.env.BENCH_HIGH_RATE ?? 2000);
const HIGH_SECONDS = Number(process.env.BENCH_HIGH_SECONDS ?? 20);
const CLAIM_COUNTS = (
  process.env.BENCH_CLAIM_COUNTS ??
  `10000,100000,${process.env.BENCH_CLAIM_BIG ?? 1_000_000}`
)
  .split(',')
  .map(Number)
  .sort((a, b) => a - b);
const CHART =
  process.env.BENCH_CHART ??
  resolve(__dirname, '../../../docs/benchmark-dispatch.svg');
const REPLICAS = 3;
/**
 * Rows one claim takes (our dispatchers' batch) and jobs one fetch takes (graphile-worker's local
 * queue): the same number for both, so that the drains compare like with like. graphile-worker gains
 * more from a larger batch than we do (2026-11-29: 31-33k jobs/s at 500, 50-55k at 2,000).
 */
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
/** Database-path drains, each followed by graphile-worker's batched drain. */
const PAIRS = Number(process.env.BENCH_PAIRS ?? 3);
/**
 * BENCH_ONLY=steady,steady-high,steady-high-memory,steady-high-db,drain-sqs,drain-db,graphile,graphile-high,graphile-batch,claim:
 * run a subset (e.g. while tuning).
 */
const ONLY = process.env.BENCH_ONLY
  ? new Set(process.env.BENCH_ONLY.split(','))
  : null;
const wanted = (part: string) => !ONLY || ONLY.has(part);

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
/** The machine is shared: every figure carries what `uptime` said when it was taken. */
const uptime = () => execSync('uptime').toString().trim();
const print = (record: object) =>
  process.stdout.write(`${JSON.stringify({ ...record, uptime: uptime() })}\n`);

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return {
    n: sorted.length,
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p999: at(99.9),
    max: sorted[sorted.length - 1],
  };
}

/** Lateness figures for the chart, in the order they were measured. */
const latenessRows: LatenessRow[] = [];
function chartRow(label: string, figure: ReturnType<typeof percentiles>) {
  latenessRows.push({ label, ...figure });
}

/** Due instants `RATE` per second, starting at 0 (shifted to the real start once seeded). */
const dueOffsets = (rate: number, seconds: number) =>
  Array.from({ length: rate * seconds }, (_, i) =>
    Math.floor((i * 1000) / rate),
  );
/**
 * Seeds far in the future, then moves everything to start this long after seeding finished. The move
 * itself (one transaction over every seeded task) must end well inside it, or the first instants are
 * late before any dispatcher sees them: each lateness line prints `move_ms`. 2 s was too short for
 * 40,000 tasks on a slow machine (moves of ~2.4 s, p99 ~400 ms on the database path).
 */
const LEAD_MS = 5000;
const PARKED_AT = Date.UTC(2100, 0, 1);

async function freshDatabase(name: string): Promise<Knex> {
  const admin = knexFactory({ client: 'pg', connection: `${PG}/postgres` });
  await admin.raw(`drop database if exists ${name} with (force)`);
  await admin.raw(`create database ${name}`);
  await admin.destroy();
  return knexFactory({
    client: 'pg',
    connection: `${PG}/${name}`,
    pool: { min: 1, max: 8 },
  });
}

async function transactions(knex: Knex): Promise<number> {
  const { rows } = await knex.raw(
    'select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()',
  );
  return Number(rows[0].n);
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('benchmark step timed out');
    await sleep(100);
  }
}

// ---------------------------------------------------------------- Lab Scheduler

async function ours(
  fauxqs: Awaited<ReturnType<typeof startFauxqsProcess>>,
  sqs: SQSClient,
  /** A second fauxqs that keeps its messages in memory only (see startFauxqsProcess). */
  inMemory: { endpoint: string; queueUrl: string },
  /** graphile-worker's batched drain, run after each of our database-path drains. */
  peerDrain: () => Promise<{ runs_per_s: number }>,
) {
  let knex = await freshDatabase('lab_bench_ours');
  await applyDatabaseMigrations(knex);
  const queueUrl = await createQueue(sqs, `bench-${Date.now()}`);
  const env = {
    PG_CONNECTION: JSON.stringify(knex.client.config.connection),
    SQS_ENDPOINT: fauxqs.endpoint,
    QUEUE_URL: queueUrl,
    LEASE_MS: '30000',
    POLL_MS: '5000',
    BATCH_SIZE: String(BATCH),
    ...(process.env.BENCH_LOOKAHEAD_MS
      ? { LOOKAHEAD_MS: process.env.BENCH_LOOKAHEAD_MS }
      : {}),
  };
  const freshOurs = async () => {
    await knex.destroy();
    knex = await freshDatabase('lab_bench_ours');
    await applyDatabaseMigrations(knex);
    env.PG_CONNECTION = JSON.stringify(knex.client.config.connection);
  };
  const startReplicas = async (extra: Record<string, string> = {}) => {
    const workers = Array.from({ length: REPLICAS }, (_, i) =>
      startWorker(`bench-${i}`, { ...env, ...extra }),
    );
    await Promise.all(workers.map(w => w.waitFor('STARTED')));
    return workers;
  };
  const stopAll = (workers: WorkerProcess[]) =>
    Promise.all(workers.map(w => w.stop()));
  const published = async () =>
    Number(
      (
        await knex('lab_scheduler_runs')
          .count({ n: '*' })
          .where('status', 'queued')
      )[0].n,
    );
  // Index-only checks while waiting (a count over 100k rows every 100 ms would load the database).
  const drained = async () => {
    const { rows } = await knex.raw(
      `select exists(select 1 from lab_scheduler_next_runs)
           or exists(select 1 from lab_scheduler_runs where status = 'pending') as busy`,
    );
    return !rows[0].busy;
  };

  // Steady load: `rate` runs due per second for `seconds`, 3 replicas idle-waiting for them.
  const steadyOnce = async (
    rate: number,
    seconds: number,
    queueLabel: string,
    extra: Record<string, string>,
  ) => {
    await freshOurs();
    const workers = await startReplicas(extra);
    const total = rate * seconds;
    // Seeding 40,000 tasks takes seconds on a busy machine: park them far ahead, then move them all
    // to start shortly after seeding, in one statement.
    await seedTasks(
      knex,
      dueOffsets(rate, seconds).map(offset => ({
        schedule: {
          type: 'once' as const,
          at: new Date(PARKED_AT + offset).toISOString(),
        },
        nextRunAt: PARKED_AT + offset,
        policies: noGuards,
      })),
    );
    const moveStart = Date.now();
    const t0 = moveStart + LEAD_MS;
    await knex.transaction(async tx => {
      await tx('lab_scheduler_next_runs').update({
        next_run_at: tx.raw('next_run_at + ?', [t0 - PARKED_AT]),
      });
      await tx('lab_scheduler_tasks').update({
        sort_at: tx.raw('sort_at + ?', [t0 - PARKED_AT]),
      });
    });
    const moveMs = Date.now() - moveStart;
    // As the API does after a change: wake the dispatchers, which then sleep until the first due run.
    await knex.raw("select pg_notify('lab_scheduler_wakeup', '')");
    await waitUntil(async () => Date.now() > t0, 10_000);
    const xactBefore = await transactions(knex);
    // A machine too busy to keep up still gets a figure: what is not out a minute after the last
    // instant counts as late by at least that much.
    const deadline = t0 + seconds * 1000 + 60_000;
    while ((await published()) < total && Date.now() < deadline)
      await sleep(100);
    const endedAt = Date.now();
    const xacts = (await transactions(knex)) - xactBefore;
    const rows = await knex('lab_scheduler_runs')
      .select('scheduled_for', 'published_at')
      .where('status', 'queued');
    const late = rows.map(
      r => Number(r.published_at) - Number(r.scheduled_for),
    );
    const notOut = total - rows.length;
    const lateness = percentiles([
      ...late,
      ...dueOffsets(rate, seconds)
        .slice(0, notOut)
        .map(() => endedAt - (t0 + seconds * 1000)),
    ]);
    const record = {
      system: 'lab-scheduler',
      figure: 'lateness_ms',
      queue: queueLabel,
      rate_per_s: rate,
      seconds,
      replicas: REPLICAS,
      ...lateness,
      not_published_within_a_minute: notOut,
      db_transactions_per_s: Math.round(xacts / seconds),
      move_ms: moveMs,
    };
    print(record);
    chartRow(`Lab Scheduler ${rate}/s, ${queueLabel}`, lateness);
    await stopAll(workers);
    return record;
  };
  const steady = wanted('steady')
    ? await steadyOnce(RATE, SECONDS, 'SQS (fauxqs)', {})
    : undefined;
  const steadyHigh = wanted('steady-high')
    ? await steadyOnce(HIGH_RATE, HIGH_SECONDS, 'SQS (fauxqs)', {})
    : undefined;
  const steadyHighInMemory = wanted('steady-high-memory')
    ? await steadyOnce(HIGH_RATE, HIGH_SECONDS, 'SQS (fauxqs in memory)', {
        SQS_ENDPOINT: inMemory.endpoint,
        QUEUE_URL: inMemory.queueUrl,
      })
    : undefined;
  const steadyHighDb = wanted('steady-high-db')
    ? await steadyOnce(HIGH_RATE, HIGH_SECONDS, 'no-op queue', {
        NULL_QUEUE: '1',
      })
    : undefined;

  // Drain: DRAIN runs already due, replicas started together; claim + publish + record. Twice:
  // through the SQS server (fauxqs), and with a no-op queue (the database path alone, like
  // graphile-worker's no-op task).
  const drainOnce = async (
    queueLabel: string,
    extra: Record<string, string>,
  ) => {
    // Each drain starts from a fresh database, as graphile-worker's do (not from tables holding the
    // dead rows of the previous phase while autovacuum works through them).
    await freshOurs();
    const due = Date.now() + 2000;
    await seedDueTasks(knex, DRAIN, due);
    if (process.env.BENCH_ANALYZE) await knex.raw('analyze');
    const replicas = await startReplicas(extra);
    await knex.raw("select pg_notify('lab_scheduler_wakeup', '')");
    await waitUntil(drained, 900_000);
    if ((await published()) !== DRAIN)
      throw new Error(`drain published ${await published()} of ${DRAIN}`);
    const span = await knex('lab_scheduler_runs')
      .min({ first: 'claimed_at' })
      .max({ last: 'published_at' });
    const seconds =
      (Number(span[0].last) - Math.max(Number(span[0].first), due)) / 1000;
    const record = {
      system: 'lab-scheduler',
      figure: 'drain_throughput',
      queue: queueLabel,
      runs: DRAIN,
      replicas: REPLICAS,
      seconds: Number(seconds.toFixed(2)),
      runs_per_s: Math.round(DRAIN / seconds),
    };
    print(record);
    await stopAll(replicas);
    return record;
  };
  const drain = wanted('drain-sqs')
    ? await drainOnce('sqs (fauxqs)', {})
    : undefined;
  // The database-path drain and graphile-worker's batched drain alternate, PAIRS times: the machine's
  // other load drifts over minutes, and a pair run back to back sees about the same.
  const pairs: Array<{ mine: number; peer: number; ratio: number }> = [];
  if (wanted('drain-db')) {
    for (let pair = 1; pair <= PAIRS; pair++) {
      const mine = await drainOnce('none (database path only)', {
        NULL_QUEUE: '1',
      });
      if (!wanted('graphile-batch')) continue;
      const peer = await peerDrain();
      const ratio = Number((mine.runs_per_s / peer.runs_per_s).toFixed(2));
      pairs.push({ mine: mine.runs_per_s, peer: peer.runs_per_s, ratio });
      print({
        figure: 'drain_pair (database path / graphile-worker batched)',
        pair,
        batch: BATCH,
        lab_scheduler_runs_per_s: mine.runs_per_s,
        graphile_batched_jobs_per_s: peer.runs_per_s,
        ratio,
      });
    }
  }
  await knex.destroy();
  return { steady, steadyHigh, steadyHighInMemory, steadyHighDb, drain, pairs };
}

// ---------------------------------------------------------------- claim cost vs table size

async function claimCost() {
  const knex = await freshDatabase('lab_bench_claim');
  await applyDatabaseMigrations(knex);
  const store = new DispatchStore(knex);
  const far = Date.now() + 365 * 86_400_000;
  const addFuture = async (count: number) => {
    // generate_series is the fast way to a million rows.
    await knex.raw(
      `with added as (
         insert into lab_scheduler_tasks (id, name, description, instrument_ref, owner, measurement_type,
           measurement_parameters, schedule_type, schedule, state, sort_at, version, created_at,
           created_by, updated_at, updated_by, overlap_policy, instrument_concurrency)
         select md5(random()::text || g)::uuid::text, 'future ' || g, '', 'resource:default/i' || (g % 100), 'group:default/x',
           'mass-reading', '{}', 'once', '{"type":"once","at":"2030-01-01T00:00:00.000Z"}', 'active',
           ?::bigint + g, 1, 0, 'bench', 0, 'bench', 'allow', null
         from generate_series(1, ?) g
         returning id, sort_at
       )
       insert into lab_scheduler_next_runs (task_id, next_run_at) select id, sort_at from added`,
      [far, count],
    );
  };
  // One dispatcher round's database work: claim 100 due runs among `stored` tasks, record their
  // publishes.
  const measure = async (stored: number) => {
    const times: number[] = [];
    for (let i = 0; i < 45; i++) {
      const now = Date.now();
      await seedDueTasks(knex, 100, now - 10);
      const start = process.hrtime.bigint();
      const result = await store.claimDueTasks({
        instanceId: 'bench',
        nowMs: Date.now(),
        batchSize: 100,
        leaseMs: 30_000,
        graceMs: 60_000,
      });
      await store.markPublished(
        result.runs.map(r => ({
          id: r.id,
          claimToken: r.claimToken,
          publishedAt: Date.now(),
        })),
      );
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (result.runs.length !== 100)
        throw new Error(`claimed ${result.runs.length}, expected 100`);
    }
    const p = percentiles(times.slice(5)); // first rounds warm caches
    const record = {
      system: 'lab-scheduler',
      figure: 'claim_round_ms_per_100_runs',
      stored_tasks: stored,
      p50: Number(p.p50.toFixed(2)),
      p95: Number(p.p95.toFixed(2)),
      p99: Number(p.p99.toFixed(2)),
    };
    print(record);
    return record;
  };
  const records = [];
  let stored = 0;
  for (const count of CLAIM_COUNTS) {
    // In slices of a million: one statement per slice keeps the transaction and its memory bounded.
    while (stored < count) {
      const slice = Math.min(1_000_000, count - stored);
      await addFuture(slice);
      stored += slice;
    }
    await knex.raw('analyze lab_scheduler_tasks');
    records.push(await measure(count));
  }
  print({
    figure: 'claim_cost_ratio',
    largest_over_smallest_p50: Number(
      (records[records.length - 1].p50 / records[0].p50).toFixed(2),
    ),
    stored_tasks: CLAIM_COUNTS,
  });
  await knex.destroy();
}

// ---------------------------------------------------------------- graphile-worker

function startGraphile(env: Record<string, string>) {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--require',
      require.resolve('@backstage/cli/config/nodeTransform.cjs'),
      resolve(__dirname, 'graphileWorker.ts'),
    ],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const late: number[] = [];
  const span = { first: Infinity, last: 0 };
  let out = '';
  child.stdout!.on('data', chunk => {
    out += chunk;
    const lines = out.split('\n');
    out = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('LATE '))
        late.push(...line.slice(5).split(',').map(Number));
      if (line.startsWith('SPAN ')) {
        const [first, last] = line.slice(5).split(' ').map(Number);
        span.first = Math.min(span.first, first);
        span.last = Math.max(span.last, last);
      }
    }
  });
  let errors = '';
  child.stderr!.on('data', c => (errors += c));
  const started = new Promise<void>((res, rej) => {
    const check = setInterval(() => {
      if (child.exitCode !== null) {
        clearInterval(check);
        rej(new Error(`graphile-worker exited: ${errors}`));
      }
    }, 100);
    child.stdout!.on('data', c => {
      if (String(c).includes('STARTED')) {
        clearInterval(check);
        res();
      }
    });
  });
  return {
    late,
    span,
    started,
    stop: async () => {
      const exited = new Promise(r => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function graphile(batching: boolean) {
  const name = batching ? 'lab_bench_gw_batch' : 'lab_bench_gw';
  const knex = await freshDatabase(name);
  const { makeWorkerUtils } = require('graphile-worker');
  const utils = await makeWorkerUtils({ connectionString: `${PG}/${name}` });
  await utils.migrate();
  const env = {
    DATABASE_URL: `${PG}/${name}`,
    CONCURRENCY: '10',
    POLL_INTERVAL: '2000',
    BATCHING: batching ? '1' : '0',
    LOCAL_QUEUE_SIZE: String(BATCH),
  };
  const label = batching
    ? `graphile-worker (local queue ${BATCH}, batched completion)`
    : 'graphile-worker (default)';
  const addAll = async (runAts: Date[]) => {
    for (let i = 0; i < runAts.length; i += 1000) {
      await utils.addJobs(
        runAts
          .slice(i, i + 1000)
          .map(runAt => ({ identifier: 'noop', payload: {}, runAt })),
      );
    }
  };
  const jobsLeft = async () =>
    Number(
      (await knex.raw('select count(*) as n from graphile_worker.jobs')).rows[0]
        .n,
    );

  const steadyOnce = async (rate: number, seconds: number) => {
    // Same steady workload as ours: `rate` jobs due per second for `seconds`, parked while they are
    // added, then moved to start shortly after.
    const workers = Array.from({ length: REPLICAS }, () => startGraphile(env));
    await Promise.all(workers.map(w => w.started));
    const total = rate * seconds;
    await addAll(
      dueOffsets(rate, seconds).map(offset => new Date(PARKED_AT + offset)),
    );
    const moveStart = Date.now();
    const t0 = moveStart + LEAD_MS;
    await knex.raw(
      'update graphile_worker._private_jobs set run_at = run_at + make_interval(secs => ?)',
      [(t0 - PARKED_AT) / 1000],
    );
    const moveMs = Date.now() - moveStart;
    await waitUntil(async () => Date.now() > t0, 10_000);
    const xactBefore = await transactions(knex);
    const deadline = t0 + seconds * 1000 + 60_000;
    while ((await jobsLeft()) > 0 && Date.now() < deadline) await sleep(100);
    const notRun = await jobsLeft();
    const endedAt = Date.now();
    const xacts = (await transactions(knex)) - xactBefore;
    await Promise.all(workers.map(w => w.stop()));
    // Jobs the workers still ran while stopping reported their own lateness; the rest count as late
    // by at least the minute.
    const reported = workers.flatMap(w => w.late);
    const late = percentiles([
      ...reported,
      ...Array.from(
        { length: Math.max(0, total - reported.length) },
        () => endedAt - (t0 + seconds * 1000),
      ),
    ]);
    const record = {
      system: label,
      figure: 'lateness_ms',
      rate_per_s: rate,
      seconds,
      replicas: REPLICAS,
      ...late,
      not_run_within_a_minute: notRun,
      db_transactions_per_s: Math.round(xacts / seconds),
      move_ms: moveMs,
    };
    print(record);
    chartRow(`${label} ${rate}/s`, late);
    // What a busy machine left over must not join the next phase.
    await knex.raw('delete from graphile_worker._private_jobs');
    return record;
  };

  const result: any = {};
  if (!batching && wanted('graphile'))
    result.steady = await steadyOnce(RATE, SECONDS);
  if (!batching && wanted('graphile-high'))
    result.steadyHigh = await steadyOnce(HIGH_RATE, HIGH_SECONDS);
  if (!batching && !wanted('graphile')) {
    await utils.release();
    await knex.destroy();
    return result;
  }
  // Drain: DRAIN jobs already due.
  await addAll(
    Array.from({ length: DRAIN }, () => new Date(Date.now() - 1000)),
  );
  const workers = Array.from({ length: REPLICAS }, () => startGraphile(env));
  await Promise.all(workers.map(w => w.started));
  const start = Date.now();
  await waitUntil(async () => (await jobsLeft()) === 0, 900_000);
  const wallSeconds = (Date.now() - start) / 1000;
  await Promise.all(workers.map(w => w.stop()));
  // Timed like ours: first job started to last job run, across the processes (the wall clock from
  // "all started" also counts the 100 ms polling here and misses jobs run while others started).
  const first = Math.min(...workers.map(w => w.span.first));
  const last = Math.max(...workers.map(w => w.span.last));
  const seconds = (last - first) / 1000;
  result.drain = {
    system: label,
    figure: 'drain_throughput',
    runs: DRAIN,
    replicas: REPLICAS,
    seconds: Number(seconds.toFixed(2)),
    runs_per_s: Math.round(DRAIN / seconds),
    wall_seconds_from_all_started: Number(wallSeconds.toFixed(2)),
  };
  print(result.drain);
  await utils.release();
  await knex.destroy();
  return result;
}

async function main() {
  print({
    figure: 'machine',
    cpus: require('node:os').cpus().length,
    node: process.version,
    drain_runs: DRAIN,
    steady: `${RATE}/s for ${SECONDS}s, ${HIGH_RATE}/s for ${HIGH_SECONDS}s`,
    drain_pairs: PAIRS,
    batch: BATCH,
    claim_stored_tasks: CLAIM_COUNTS,
  });
  const fauxqs = await startFauxqsProcess();
  const sqs = fauxqs.client();
  const inMemory = await startFauxqsProcess({ persist: false });
  try {
    const mine = await ours(
      fauxqs,
      sqs,
      {
        endpoint: inMemory.endpoint,
        queueUrl: await createQueue(
          inMemory.client(),
          `bench-memory-${Date.now()}`,
        ),
      },
      async () => (await graphile(true)).drain,
    );
    const gw =
      wanted('graphile') || wanted('graphile-high')
        ? await graphile(false)
        : undefined;
    if (wanted('claim')) await claimCost();
    if (latenessRows.length > 0) {
      writeFileSync(
        CHART,
        latenessChartSvg({
          title: `Dispatch lateness (publish or job start minus due instant), ${REPLICAS} processes each`,
          subtitle: `npm run bench, ${new Date()
            .toISOString()
            .slice(0, 16)}Z; uptime at the end: ${uptime()}`,
          rows: latenessRows,
          targetMs: 25,
        }),
      );
      print({ figure: 'chart', path: CHART });
    }
    if (ONLY) return;
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    print({
      figure: 'ratios (lab-scheduler / graphile-worker)',
      throughput_vs_default: Number(
        (mine.drain!.runs_per_s / gw!.drain.runs_per_s).toFixed(2),
      ),
      db_path_throughput_vs_batching_per_pair: mine.pairs.map(p => p.ratio),
      db_path_throughput_vs_batching_median: median(
        mine.pairs.map(p => p.ratio),
      ),
      p99_lateness_vs_default: Number(
        (mine.steady!.p99 / Math.max(1, gw!.steady.p99)).toFixed(3),
      ),
      p99_lateness_at_high_rate_vs_default: Number(
        (mine.steadyHigh!.p99 / Math.max(1, gw!.steadyHigh.p99)).toFixed(3),
      ),
      db_transactions_per_s_vs_default: Number(
        (
          mine.steady!.db_transactions_per_s /
          Math.max(1, gw!.steady.db_transactions_per_s)
        ).toFixed(2),
      ),
    });
  } finally {
    await fauxqs.stop();
    await inMemory.stop();
  }
}

main().then(
  () => process.exit(0),
  error => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  },
);
