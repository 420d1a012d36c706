import { SQSClient } from '@aws-sdk/client-sqs';
import knexFactory, { Knex } from 'knex';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { startWorker, WorkerProcess } from '../__testUtils__/processes';
import { noGuards, seedTasks } from '../__testUtils__/seed';
import {
  createQueue,
  drainQueue,
  FauxqsProcess,
  startFauxqsProcess,
} from '../__testUtils__/sqs';
import { applyDatabaseMigrations } from '../database/createStores';

/*
 * Several dispatcher replicas, each in its own process, against one PostgreSQL and one SQS server:
 * the claims must be atomic across processes, and crashes, connection loss and queue outages must
 * neither lose nor double an occurrence.
 */

jest.setTimeout(240_000);

const databases = createTestDatabases();
const pgOnly = databaseIds.includes('POSTGRES_15') ? describe : describe.skip;
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const MINUTE = 60_000;

pgOnly('dispatcher replicas in separate processes (PostgreSQL)', () => {
  let knex: Knex;
  let fauxqs: FauxqsProcess;
  let sqs: SQSClient;
  let workers: WorkerProcess[] = [];
  let queueUrl: string;

  beforeAll(async () => {
    fauxqs = await startFauxqsProcess();
    sqs = fauxqs.client();
  });

  afterAll(async () => {
    await fauxqs.stop();
  });

  beforeEach(async () => {
    knex = await databases.init('POSTGRES_15');
    await applyDatabaseMigrations(knex);
    queueUrl = await createQueue(sqs, `replicas-${Date.now()}`);
  });

  afterEach(async () => {
    await Promise.all(workers.map(w => w.kill()));
    workers = [];
  });

  function spawnWorkers(
    count: number,
    env: Record<string, string> = {},
    prefix = 'replica',
  ) {
    const connection = knex.client.config.connection;
    const started = Array.from({ length: count }, (_, i) =>
      startWorker(`${prefix}-${i}`, {
        PG_CONNECTION: JSON.stringify(connection),
        SQS_ENDPOINT: fauxqs.endpoint,
        QUEUE_URL: queueUrl,
        LEASE_MS: '2000',
        POLL_MS: '500',
        ...env,
      }),
    );
    workers.push(...started);
    return started;
  }

  /** Waits until nothing is due: every due occurrence has a run and every run is queued. */
  async function waitUntilDrained(timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = Date.now();
      const [due] = await knex('lab_scheduler_next_runs')
        .count({ n: '*' })
        .where('next_run_at', '<=', now - 1500);
      const [pending] = await knex('lab_scheduler_runs')
        .count({ n: '*' })
        .where('status', 'pending');
      if (Number(due.n) === 0 && Number(pending.n) === 0) return;
      if (Date.now() > deadline)
        throw new Error(
          `not drained: ${due.n} tasks due, ${pending.n} runs pending`,
        );
      await sleep(200);
    }
  }

  async function checkExactlyOnce(
    oneTimeIds: string[],
    recurringIds: string[],
  ) {
    const runs = await knex('lab_scheduler_runs').select(
      'id',
      'task_id',
      'scheduled_for',
      'status',
      'published_at',
    );
    const messages = await drainQueue(sqs, queueUrl);
    const runIds = new Set(runs.map(r => r.id));
    const messageRunIds = new Set(messages.map(m => m.runId));
    // Every run reached the queue and recorded when; every message belongs to a run.
    expect(
      runs.every(r => r.status === 'queued' && r.published_at !== null),
    ).toBe(true);
    expect(messageRunIds).toEqual(runIds);
    // One run per one-time task; recurring tasks have one run per minute, without gaps.
    const byTask = new Map<string, number[]>();
    for (const r of runs)
      byTask.set(r.task_id, [
        ...(byTask.get(r.task_id) ?? []),
        Number(r.scheduled_for),
      ]);
    for (const id of oneTimeIds) expect(byTask.get(id)).toHaveLength(1);
    for (const id of recurringIds) {
      const times = byTask.get(id)!.sort((a, b) => a - b);
      for (let i = 1; i < times.length; i++)
        expect(times[i] - times[i - 1]).toBe(MINUTE);
    }
    // No run published before its time.
    expect(
      runs.every(r => Number(r.published_at) >= Number(r.scheduled_for)),
    ).toBe(true);
    return {
      runs: runs.length,
      messages: messages.length,
      distinct: messageRunIds.size,
    };
  }

  async function seedWorkload(
    oneTime: number,
    recurring: number,
    missedMinutes: number,
  ) {
    const now = Date.now();
    const oneTimeIds = await seedTasks(
      knex,
      Array.from({ length: oneTime }, (_, i) => {
        const at = now + 500 + Math.floor((i / oneTime) * 3000);
        return {
          schedule: { type: 'once' as const, at: new Date(at).toISOString() },
          nextRunAt: at,
          policies: noGuards,
        };
      }),
    );
    const start = Math.floor(now / MINUTE) * MINUTE - missedMinutes * MINUTE;
    const recurringIds = await seedTasks(
      knex,
      Array.from({ length: recurring }, () => ({
        schedule: {
          type: 'cron' as const,
          expression: '* * * * *',
          timezone: 'UTC',
        },
        nextRunAt: start,
        policies: {
          ...noGuards,
          misfire: 'run_all' as const,
          misfireWindowSeconds: 7200,
        },
      })),
    );
    return { oneTimeIds, recurringIds };
  }

  it('4 replicas publish ≥ 5,000 occurrences exactly once', async () => {
    const { oneTimeIds, recurringIds } = await seedWorkload(2600, 100, 25);
    const replicas = spawnWorkers(4, { LEASE_MS: '30000' });
    await Promise.all(replicas.map(w => w.waitFor('STARTED')));
    await waitUntilDrained();
    await Promise.all(replicas.map(w => w.stop()));
    const counts = await checkExactlyOnce(oneTimeIds, recurringIds);
    expect(counts.runs).toBeGreaterThanOrEqual(5000);
    expect(counts.messages).toBe(counts.runs);
  });

  it('a replica SIGKILLed mid-batch: its claims are recovered by the others after the lease', async () => {
    const { oneTimeIds, recurringIds } = await seedWorkload(1500, 50, 10);
    const [victim] = spawnWorkers(
      1,
      { PUBLISH_DELAY_MS: '60000', BATCH_SIZE: '300' },
      'victim',
    );
    await victim.waitFor('CLAIMED');
    const survivors = spawnWorkers(2);
    await victim.kill(); // claimed, never published
    const killedAt = Date.now();
    await waitUntilDrained();
    await Promise.all(survivors.map(w => w.stop()));
    const counts = await checkExactlyOnce(oneTimeIds, recurringIds);
    // Messages exceed runs only by what was in flight; here the victim published nothing.
    expect(counts.messages).toBe(counts.distinct);
    const recovered = await knex('lab_scheduler_runs')
      .count({ n: '*' })
      .where('claimed_at', '<', killedAt)
      .where('published_at', '>=', killedAt);
    expect(Number(recovered[0].n)).toBeGreaterThan(0);
    const logs = survivors.flatMap(w => w.stderr).join('');
    expect(logs).toMatch(
      /Recovered \d+ runs from expired claims of another dispatcher.*victim/,
    );
  });

  it('survives PostgreSQL connections being terminated during dispatch', async () => {
    const { oneTimeIds, recurringIds } = await seedWorkload(2000, 40, 5);
    const replicas = spawnWorkers(3);
    await Promise.all(replicas.map(w => w.waitFor('STARTED')));
    const database = knex.client.config.connection.database;
    const admin = knexFactory({
      client: 'pg',
      connection: { ...knex.client.config.connection, database: 'postgres' },
    });
    try {
      for (let i = 0; i < 10; i++) {
        await admin.raw(
          'select pg_terminate_backend(pid) from pg_stat_activity where datname = ? and pid <> pg_backend_pid() and application_name <> ?',
          [database, 'lab-scheduler-test'],
        );
        await sleep(300);
      }
    } finally {
      await admin.destroy();
    }
    await waitUntilDrainedWithRetry();
    await Promise.all(replicas.map(w => w.stop()));
    await checkExactlyOnce(oneTimeIds, recurringIds);
    expect(replicas.every(w => w.child.exitCode === 0)).toBe(true); // nobody crashed
  });

  it('loses nothing while the queue server is down for 30 s, and publishes it all when it returns', async () => {
    const replicas = spawnWorkers(2);
    await Promise.all(replicas.map(w => w.waitFor('STARTED')));
    await fauxqs.stop();
    const { oneTimeIds, recurringIds } = await seedWorkload(500, 20, 3);
    await sleep(30_000);
    const [stuck] = await knex('lab_scheduler_runs')
      .count({ n: '*' })
      .where('status', 'pending');
    expect(Number(stuck.n)).toBeGreaterThan(500); // due, claimed, not publishable
    await fauxqs.start();
    await waitUntilDrained();
    await Promise.all(replicas.map(w => w.stop()));
    const counts = await checkExactlyOnce(oneTimeIds, recurringIds);
    expect(counts.messages).toBe(counts.runs);
  });

  /** The test's own pool may have lost connections too: retry its reads. */
  async function waitUntilDrainedWithRetry() {
    for (let attempt = 0; ; attempt++) {
      try {
        await waitUntilDrained();
        return;
      } catch (error) {
        if (attempt > 5 || /not drained/.test(String(error))) throw error;
        await sleep(200);
      }
    }
  }
});
