import { mockServices, TestDatabaseId } from '@backstage/backend-test-utils';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  DEFAULT_TASK_POLICIES,
  firstOccurrenceAtOrAfter,
  TaskPolicies,
  TaskSchedule,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import {
  createQueue,
  drainQueue,
  FauxqsProcess,
  startFauxqsProcess,
} from '../__testUtils__/sqs';
import { createStores } from '../database/createStores';
import { DatabaseTaskStore } from '../database/DatabaseTaskStore';
import { DispatchStore } from '../database/DispatchStore';
import { writeNextRuns } from '../database/nextRuns';
import { SqsTaskQueue } from '../queue/SqsTaskQueue';
import { Dispatcher } from './Dispatcher';
import { LocalWakeup, PgNotifyWakeup } from './Wakeup';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const logger = mockServices.logger.mock();

let fauxqs: FauxqsProcess;
let sqs: SQSClient;

beforeAll(async () => {
  fauxqs = await startFauxqsProcess();
  sqs = fauxqs.client();
});

afterAll(async () => {
  await fauxqs.stop();
});

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function waitFor<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (ok(value) || Date.now() > deadline) return value;
    await sleep(50);
  }
}

describe.each(databaseIds)('Dispatcher on %s', (databaseId: TestDatabaseId) => {
  let knex: Knex;
  let tasks: DatabaseTaskStore;
  let store: DispatchStore;
  let queueUrl: string;
  let queue: SqsTaskQueue;

  beforeAll(async () => {
    knex = await databases.init(databaseId);
    ({ tasks, dispatch: store } = await createStores({
      knex,
      runStates: { staleRunningMs: 60_000 },
    }));
  });

  beforeEach(async () => {
    queueUrl = await createQueue(sqs, `runs-${databaseId}-${Date.now()}`);
    queue = new SqsTaskQueue({ queueUrl, client: sqs });
    await knex('lab_scheduler_runs').delete();
    await knex('lab_scheduler_tasks').delete();
  });

  async function addTask(
    schedule: TaskSchedule,
    nextRunAt: number,
    policies: Partial<TaskPolicies> = {},
    instrumentRef = 'resource:default/plate-reader-1',
  ) {
    return tasks.createTask(
      {
        name: 'Task',
        description: '',
        instrumentRef,
        owner: 'group:default/lab-ops',
        measurement: {
          type: 'absorbance-spectrum',
          parameters: { startNm: 230 },
        },
        schedule,
        policies: { ...DEFAULT_TASK_POLICIES, ...policies },
        state: 'active',
        nextRunAt,
      },
      'user:default/ada',
      Date.now(),
    );
  }

  const runs = () => knex('lab_scheduler_runs').orderBy('scheduled_for');

  it('publishes each due occurrence once, never early, and advances the schedule', async () => {
    // The every-minute task must not come due again during the test: keep clear of a minute's end.
    const toNextMinute = 60_000 - (Date.now() % 60_000);
    if (toNextMinute < 3_000) await sleep(toNextMinute + 10);
    const now = Date.now();
    const once = await addTask(
      { type: 'once', at: new Date(now - 10).toISOString() },
      now - 10,
    );
    const cron = await addTask(
      { type: 'cron', expression: '* * * * *', timezone: 'UTC' },
      Math.floor(now / 60_000) * 60_000,
      { instrumentConcurrency: null },
      'resource:default/uv-vis-1',
    );
    const later = await addTask(
      { type: 'once', at: new Date(now + 3_600_000).toISOString() },
      now + 3_600_000,
    );
    const dispatcher = new Dispatcher({
      store,
      queue,
      logger,
      instanceId: 'a',
    });
    const result = await dispatcher.tick();
    expect(result).toMatchObject({ claimed: 2, published: 2, failed: 0 });
    expect((await dispatcher.tick()).claimed).toBe(0);

    const messages = await drainQueue(sqs, queueUrl);
    expect(messages.map(m => m.taskId).sort()).toEqual(
      [once.id, cron.id].sort(),
    );
    const rows = await runs();
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.status).toBe('queued');
      expect(Number(row.published_at)).toBeGreaterThanOrEqual(
        Number(row.scheduled_for),
      );
      const message = messages.find(m => m.runId === row.id);
      expect(message).toMatchObject({
        schemaVersion: 1,
        attempt: 1,
        scheduledFor: new Date(Number(row.scheduled_for)).toISOString(),
        measurement: {
          type: 'absorbance-spectrum',
          parameters: { startNm: 230 },
        },
      });
      expect(message._attributes.measurementType.StringValue).toBe(
        'absorbance-spectrum',
      );
    }
    // Its run is queued, not ended: the one-time task is not completed yet.
    expect((await tasks.getTask(once.id))!).toMatchObject({
      state: 'active',
      nextRunAt: null,
      lastRun: { status: 'queued' },
    });
    expect(
      Date.parse((await tasks.getTask(cron.id))!.nextRunAt!),
    ).toBeGreaterThan(now);
    expect((await tasks.getTask(later.id))!.lastRun).toBeNull();
  });

  it('recovers runs claimed by an instance that died, after its lease', async () => {
    const now = Date.now();
    for (let i = 0; i < 5; i++) {
      await addTask(
        { type: 'once', at: new Date(now - i).toISOString() },
        now - i,
        { instrumentConcurrency: null },
      );
    }
    // Instance "dead" claims and dies before publishing.
    const claim = await store.claimDueTasks({
      instanceId: 'dead',
      nowMs: now,
      batchSize: 100,
      leaseMs: 300,
      graceMs: 60_000,
    });
    expect(claim.runs).toHaveLength(5);
    // The survivor's clock, not the machine's: on a loaded machine 300 ms can pass before its first
    // round, which must see the lease still held.
    let clock = now + 100;
    const survivor = new Dispatcher({
      store,
      queue,
      logger,
      instanceId: 'survivor',
      // Its own lease is long: on a loaded machine its publish must not run past the lease's end.
      leaseMs: 10_000,
      now: () => clock,
    });
    expect((await survivor.tick()).published).toBe(0); // lease still held
    clock = now + 350;
    const result = await survivor.tick();
    expect(result).toMatchObject({ published: 5, recovered: 5 });
    const messages = await drainQueue(sqs, queueUrl);
    expect(new Set(messages.map(m => m.runId)).size).toBe(5);
    expect(
      (await runs()).every(
        r => r.status === 'queued' && r.claimed_by === 'survivor',
      ),
    ).toBe(true);
  });

  it('retries a failed publish with backoff and loses nothing while SQS is down', async () => {
    const now = Date.now();
    await addTask({ type: 'once', at: new Date(now).toISOString() }, now, {
      instrumentConcurrency: null,
    });
    const broken = new SqsTaskQueue({
      queueUrl,
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const dispatcher = new Dispatcher({
      store,
      queue: broken,
      logger,
      instanceId: 'a',
      retryInitialDelayMs: 200,
    });
    expect(await dispatcher.tick()).toMatchObject({
      claimed: 1,
      published: 0,
      failed: 1,
    });
    const [pending] = await runs();
    expect(pending).toMatchObject({ status: 'pending', publish_failures: 1 });
    expect(pending.error).toMatch(/SQS/);
    expect(Number(pending.lease_expires_at)).toBeGreaterThan(Date.now());
    await sleep(250);
    expect(await dispatcher.tick()).toMatchObject({ claimed: 1, failed: 1 });
    const [again] = await runs();
    // Exponential: the second delay is twice the first.
    expect(Number(again.lease_expires_at) - Date.now()).toBeGreaterThan(250);
    await broken.close();

    const healed = new Dispatcher({ store, queue, logger, instanceId: 'b' });
    await sleep(450);
    expect((await healed.tick()).published).toBe(1);
    expect(await drainQueue(sqs, queueUrl)).toHaveLength(1);
    expect((await runs())[0]).toMatchObject({ status: 'queued', error: null });
  });

  it('holds runs while their instrument is busy (instrument guard) and publishes them when it frees', async () => {
    const now = Date.now();
    const a = await addTask(
      { type: 'once', at: new Date(now - 2).toISOString() },
      now - 2,
    );
    const b = await addTask(
      { type: 'once', at: new Date(now - 1).toISOString() },
      now - 1,
    );
    const dispatcher = new Dispatcher({
      store,
      queue,
      logger,
      instanceId: 'a',
      slotRetryMs: 100,
    });
    const first = await dispatcher.tick();
    expect(first).toMatchObject({
      claimed: 2,
      published: 1,
      waitingForInstrument: 1,
    });
    const [published] = await drainQueue(sqs, queueUrl);
    expect(published.taskId).toBe(a.id);
    // The database itself refuses a second holder of the slot.
    const waitingRun = (await runs()).find(r => r.task_id === b.id);
    await expect(
      knex('lab_scheduler_runs').where('id', waitingRun.id).update({ slot: 0 }),
    ).rejects.toThrow();
    // The first run ends: its slot is released.
    await knex('lab_scheduler_runs')
      .where('task_id', a.id)
      .update({ status: 'succeeded', slot: null });
    await sleep(120);
    expect((await dispatcher.tick()).published).toBe(1);
    expect((await drainQueue(sqs, queueUrl))[0].taskId).toBe(b.id);
  });

  it('gives a backlog free instrument slots with one write per run, however many slots are held', async () => {
    const instrumentRef = 'resource:default/plate-reader-1';
    const addDue = async (count: number) => {
      const now = Date.now();
      for (let i = 0; i < count; i++) {
        await addTask(
          { type: 'once', at: new Date(now - 1000).toISOString() },
          now - 1000,
          {},
          instrumentRef,
        );
      }
      // A large capacity (catalog annotation), as on a rig that measures many samples at once.
      await knex('lab_scheduler_tasks').update({ instrument_concurrency: 500 });
    };
    const dispatcher = new Dispatcher({
      store,
      queue,
      logger,
      instanceId: 'a',
    });
    await addDue(120);
    expect((await dispatcher.tick()).published).toBe(120);

    // 120 slots held (those runs are still in flight); 30 more runs fall due.
    await addDue(30);
    let slotWrites = 0;
    const countSlotWrites = (query: { sql: string }) => {
      if (/^update\b.*\bslot\b/i.test(query.sql)) slotWrites++;
    };
    knex.on('query', countSlotWrites);
    try {
      expect(await dispatcher.tick()).toMatchObject({
        published: 30,
        waitingForInstrument: 0,
      });
    } finally {
      knex.removeListener('query', countSlotWrites);
    }
    // Trying slot 0, 1, 2… cost 121 refused writes per run here (3,630 in all).
    expect(slotWrites).toBe(30);
    const slots = (await runs()).map(r => Number(r.slot));
    expect(new Set(slots).size).toBe(150);
    expect(Math.max(...slots)).toBe(149);
  });

  it('publishes a "run now" through the same path', async () => {
    const task = await addTask(
      { type: 'once', at: new Date(Date.now() + 3_600_000).toISOString() },
      Date.now() + 3_600_000,
    );
    const run = await tasks.triggerRun(task.id, 'user:default/ada', Date.now());
    const dispatcher = new Dispatcher({
      store,
      queue,
      logger,
      instanceId: 'a',
    });
    expect((await dispatcher.tick()).published).toBe(1);
    expect((await drainQueue(sqs, queueUrl)).map(m => m.runId)).toEqual([
      run.id,
    ]);
    expect((await tasks.getTask(task.id))!.state).toBe('active'); // the scheduled occurrence still comes
  });

  it('applies misfire and overlap policies after downtime', async () => {
    const minute = 60_000;
    const now = Date.now();
    const past = Math.floor(now / minute) * minute - 10 * minute;
    const cron = {
      type: 'cron' as const,
      expression: '* * * * *',
      timezone: 'UTC',
    };
    const skip = await addTask(cron, past, {
      misfire: 'skip',
      overlap: 'allow',
      instrumentConcurrency: null,
    });
    const once = await addTask(cron, past, {
      misfire: 'run_once',
      overlap: 'allow',
      instrumentConcurrency: null,
    });
    const all = await addTask(cron, past, {
      misfire: 'run_all',
      misfireWindowSeconds: 300,
      overlap: 'allow',
      instrumentConcurrency: null,
    });
    const dispatcher = new Dispatcher({
      store,
      queue,
      logger,
      instanceId: 'a',
      misfireGraceMs: 60_000,
    });
    await dispatcher.tick();
    const rows = await runs();
    const of = (id: string) => rows.filter(r => r.task_id === id);
    // skip: one skipped marker plus the on-time occurrence (the current minute, if within grace).
    expect(of(skip.id).filter(r => r.status === 'skipped')).toHaveLength(1);
    expect(
      of(skip.id).filter(r => r.status === 'queued').length,
    ).toBeLessThanOrEqual(1);
    expect(of(once.id).filter(r => r.status === 'queued')).toHaveLength(1);
    expect(
      of(all.id).filter(r => r.status === 'queued').length,
    ).toBeGreaterThanOrEqual(5);
    // Overlap skip: the next occurrence is skipped while a run is still queued.
    const overlap = await addTask(cron, now - 1, {
      overlap: 'skip',
      instrumentConcurrency: null,
    });
    await knex('lab_scheduler_runs').insert({
      id: '33333333-3333-4333-8333-333333333333',
      task_id: overlap.id,
      scheduled_for: now - minute,
      status: 'running',
      attempt: 1,
      created_at: now,
    });
    await dispatcher.tick();
    const overlapRuns = (await runs()).filter(
      r => r.task_id === overlap.id && r.status !== 'running',
    );
    expect(overlapRuns).toEqual([
      expect.objectContaining({
        status: 'skipped',
        error: expect.stringMatching(/still active/),
      }),
    ]);
  });

  it('sleeps until the next due instant and wakes early on a change', async () => {
    const wakeup =
      databaseId === 'POSTGRES_15'
        ? new PgNotifyWakeup(knex, logger)
        : new LocalWakeup();
    const dispatcher = new Dispatcher({
      store,
      queue,
      logger,
      instanceId: 'timer',
      wakeup,
      pollIntervalMs: 60_000,
    });
    const due = Date.now() + 700;
    await addTask({ type: 'once', at: new Date(due).toISOString() }, due, {
      instrumentConcurrency: null,
    });
    dispatcher.start();
    try {
      const [row] = await waitFor(
        runs,
        r => r.length === 1 && r[0].status === 'queued',
        5_000,
      );
      expect(row.status).toBe('queued');
      const lateness = Number(row.published_at) - due;
      expect(lateness).toBeGreaterThanOrEqual(0);
      expect(lateness).toBeLessThan(1_000); // far below the 60 s poll interval: the timer did it
      await sleep(300); // let the dispatcher settle into its long sleep
      const now = Date.now();
      await addTask({ type: 'once', at: new Date(now).toISOString() }, now, {
        instrumentConcurrency: null,
      });
      await wakeup.notify();
      const all = await waitFor(
        runs,
        r => r.length === 2 && r.every(x => x.status === 'queued'),
        5_000,
      );
      expect(all.every(r => r.status === 'queued')).toBe(true);
    } finally {
      await dispatcher.stop();
      await wakeup.close();
    }
  });

  it.each([
    [
      'Europe/Berlin',
      '30 2 * * *',
      '2026-03-27T12:00:00Z',
      [
        '2026-03-28T01:30:00.000Z',
        '2026-03-29T01:30:00.000Z',
        '2026-03-30T00:30:00.000Z',
      ],
    ],
    [
      'America/New_York',
      '30 1 * * *',
      '2026-10-31T12:00:00Z',
      ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
    ],
    [
      'Australia/Lord_Howe',
      '15 2 * * *',
      '2026-10-02T12:00:00Z',
      ['2026-10-02T15:45:00.000Z', '2026-10-03T15:45:00.000Z'],
    ],
  ])(
    'dispatches across the DST change in %s on a simulated clock (%s)',
    async (timezone, expression, startIso, expected) => {
      let clock = Date.parse(startIso);
      const schedule = { type: 'cron' as const, expression, timezone };
      const first = firstOccurrenceAtOrAfter(schedule, clock)!;
      await addTask(schedule, first, {
        instrumentConcurrency: null,
        overlap: 'allow',
      });
      const dispatcher = new Dispatcher({
        store,
        queue,
        logger,
        instanceId: 'clock',
        now: () => clock,
      });
      const end = Date.parse(expected[expected.length - 1]) + 10 * 60_000;
      // Walk the clock in 10-minute steps across the transition night(s), ticking each step.
      for (; clock <= end; clock += 10 * 60_000) await dispatcher.tick();
      const rows = await runs();
      expect(
        rows.map(r => new Date(Number(r.scheduled_for)).toISOString()),
      ).toEqual(expected);
      // Each published at most one step after its instant (never before it).
      for (const row of rows) {
        const lateness = Number(row.published_at) - Number(row.scheduled_for);
        expect(lateness).toBeGreaterThanOrEqual(0);
        expect(lateness).toBeLessThan(10 * 60_000);
      }
    },
  );

  it('recovers an expired claim while it is still draining a backlog', async () => {
    const now = Date.now();
    // A claim by an instance that died: its lease expires 300 ms from now, in the middle of the drain.
    await addTask(
      { type: 'once', at: new Date(now - 60_000).toISOString() },
      now - 60_000,
      {
        instrumentConcurrency: null,
      },
    );
    const dead = await store.claimDueTasks({
      instanceId: 'dead',
      nowMs: now,
      batchSize: 10,
      leaseMs: 300,
      graceMs: 120_000,
    });
    expect(dead.runs).toHaveLength(1);
    // A backlog that keeps every round full for seconds: 300 due tasks, 5 per round, and a queue that
    // takes 50 ms per publish.
    const [template] = await knex('lab_scheduler_tasks').select('*');
    const backlog = Array.from({ length: 300 }, (_, i) => ({
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      at: now - 1000 + i,
    }));
    await knex('lab_scheduler_tasks').insert(
      backlog.map(({ id, at }) => ({
        ...template,
        id,
        state: 'active',
        sort_at: at,
      })),
    );
    await writeNextRuns(
      knex,
      backlog.map(({ id, at }) => ({ taskId: id, nextRunAt: at })),
    );
    const slowQueue = {
      publish: async (messages: Parameters<SqsTaskQueue['publish']>[0]) => {
        await sleep(50);
        return queue.publish(messages);
      },
      close: async () => {},
    };
    const dispatcher = new Dispatcher({
      store,
      queue: slowQueue,
      logger,
      instanceId: 'busy',
      batchSize: 5,
    });
    dispatcher.start();
    const recovered = await waitFor(
      () => knex('lab_scheduler_runs').where({ id: dead.runs[0].id }).first(),
      row => row?.status === 'queued',
    );
    const [backlogLeft] = await knex('lab_scheduler_tasks')
      .where('state', 'active')
      .count({ n: '*' });
    await dispatcher.stop();
    expect(recovered).toMatchObject({ status: 'queued', claimed_by: 'busy' });
    // Recovered during the drain: while rounds are full the pending-run query is throttled, not suspended.
    expect(Number(backlogLeft.n)).toBeGreaterThan(0);
  });

  it('stops gracefully: publishes what it claimed and hands back the rest', async () => {
    const now = Date.now();
    for (let i = 0; i < 30; i++) {
      await addTask(
        { type: 'once', at: new Date(now - i).toISOString() },
        now - i,
        { instrumentConcurrency: null },
      );
    }
    const dispatcher = new Dispatcher({
      store,
      queue,
      logger,
      instanceId: 'graceful',
      batchSize: 10,
    });
    dispatcher.start();
    await dispatcher.stop();
    const rows = await runs();
    // Whatever it claimed is either published or released for others right away.
    for (const row of rows) {
      const handedBack =
        row.status === 'pending' && Number(row.lease_expires_at) <= Date.now();
      expect(row.status === 'queued' || handedBack).toBe(true);
    }
    const published = rows.filter(r => r.status === 'queued').length;
    expect((await drainQueue(sqs, queueUrl)).length).toBe(published);
  });
});
