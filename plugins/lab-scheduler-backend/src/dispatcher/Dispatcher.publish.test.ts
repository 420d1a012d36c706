/*
 * The publish path under faults: claim tokens fence superseded claims, publishes are recorded as they
 * succeed with a bound on what is sent but unrecorded, the end of a queue outage is found by probing,
 * and a message the queue refuses for good fails its run instead of holding the instrument.
 * SQLite and PostgreSQL, with a real SQS server (fauxqs) through the AWS SDK.
 */
import { mockServices, TestDatabaseId } from '@backstage/backend-test-utils';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  DEFAULT_TASK_POLICIES,
  parseRunMessage,
  RunMessage,
  TaskPolicies,
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
import { RunStateStore } from '../database/RunStateStore';
import { SqsTaskQueue } from '../queue/SqsTaskQueue';
import { PublishOutcome, TaskQueue } from '../queue/TaskQueue';
import { Dispatcher } from './Dispatcher';
import { createDispatcherMetrics } from './metrics';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const logger = mockServices.logger.mock();
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

let fauxqs: FauxqsProcess;
let sqs: SQSClient;

beforeAll(async () => {
  fauxqs = await startFauxqsProcess();
  sqs = fauxqs.client();
});

afterAll(async () => {
  await fauxqs.stop();
});

describe.each(databaseIds)(
  'publish path on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let tasks: DatabaseTaskStore;
    let store: DispatchStore;
    let runStates: RunStateStore;
    let queueUrl: string;
    let queue: SqsTaskQueue;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      ({
        tasks,
        dispatch: store,
        runStates,
      } = await createStores({ knex, runStates: { staleRunningMs: 60_000 } }));
    });

    beforeEach(async () => {
      queueUrl = await createQueue(sqs, `pub-${databaseId}-${Date.now()}`);
      queue = new SqsTaskQueue({ queueUrl, client: sqs });
      await knex('lab_scheduler_runs').delete();
      await knex('lab_scheduler_tasks').delete();
    });

    async function addTasks(
      count: number,
      options: {
        at?: number;
        name?: string;
        parameters?: Record<string, unknown>;
        policies?: Partial<TaskPolicies>;
        instrumentRef?: string;
      } = {},
    ) {
      const at = options.at ?? Date.now() - 10;
      const created = [];
      for (let i = 0; i < count; i++) {
        created.push(
          await tasks.createTask(
            {
              name: options.name ?? `Task ${i}`,
              description: '',
              instrumentRef:
                options.instrumentRef ?? `resource:default/reader-${i}`,
              owner: 'group:default/lab-ops',
              measurement: {
                type: 'absorbance-spectrum',
                parameters: options.parameters ?? { startNm: 230 },
              },
              schedule: { type: 'once', at: new Date(at).toISOString() },
              policies: { ...DEFAULT_TASK_POLICIES, ...options.policies },
              state: 'active',
              nextRunAt: at,
            },
            'user:default/ada',
            Date.now(),
          ),
        );
      }
      return created;
    }

    const runs = () => knex('lab_scheduler_runs').orderBy('scheduled_for');

    /** The SQS queue behind requests that each take `delayMs`; `onRequest` sees each request's messages. */
    const slowQueue = (
      delayMs: number,
      onRequest?: (messages: RunMessage[]) => void,
    ): TaskQueue => ({
      maxBatchSize: queue.maxBatchSize,
      durable: queue.durable,
      async publish(messages): Promise<PublishOutcome[]> {
        onRequest?.(messages);
        await sleep(delayMs);
        return queue.publish(messages);
      },
      close: async () => {},
    });

    it('fences a superseded claim: its message cannot start the run, and its late record changes nothing', async () => {
      await addTasks(1);
      const now = Date.now();
      // Replica "stalled" claims and publishes, then stalls past its lease before recording the publish.
      const stale = await store.claimDueTasks({
        instanceId: 'stalled',
        nowMs: now,
        batchSize: 10,
        leaseMs: 200,
        graceMs: 60_000,
      });
      expect(stale.runs).toHaveLength(1);
      const [staleRun] = stale.runs;
      await queue.publish([staleRun.message]);
      await sleep(250);

      // Another replica takes the run over under a new claim and publishes it again.
      const survivor = new Dispatcher({
        store,
        queue,
        logger,
        instanceId: 'survivor',
        // Its own lease is long: a loaded machine must not push its publish past the lease's end.
        leaseMs: 10_000,
      });
      expect(await survivor.tick()).toMatchObject({
        published: 1,
        recovered: 1,
      });
      const messages = (await drainQueue(sqs, queueUrl)) as RunMessage[];
      expect(messages).toHaveLength(2);
      const [first, second] = messages;
      expect(first.runId).toBe(second.runId);
      expect(first.claimToken).not.toBe(second.claimToken);
      const current = messages.find(m => m.claimToken !== staleRun.claimToken)!;

      // The stalled replica wakes and records its publish: the run is no longer under its claim.
      await store.markPublished([
        { id: staleRun.id, claimToken: staleRun.claimToken, publishedAt: 1 },
      ]);
      const [row] = await runs();
      expect(row.claim_token).toBe(current.claimToken);
      expect(Number(row.published_at)).not.toBe(1);

      // Both messages are delivered: the superseded one is refused, the current one measures — once.
      const report = (claimToken?: string) => ({
        actor: 'service:test-executor',
        claimToken,
        nowMs: Date.now(),
      });
      const refused = await runStates.start(
        staleRun.id,
        1,
        report(staleRun.claimToken),
      );
      expect(refused.proceed).toBe(false);
      const started = await runStates.start(
        current.runId,
        current.attempt,
        report(current.claimToken),
      );
      expect(started).toMatchObject({
        proceed: true,
        run: { status: 'running' },
      });
      const again = await runStates.start(
        current.runId,
        current.attempt,
        report(current.claimToken),
      );
      expect(again.proceed).toBe(false);
      // A start without a token (a forged or pre-token message) is refused for a run that has one.
      await knex('lab_scheduler_runs')
        .where({ id: current.runId })
        .update({ status: 'queued', started_at: null });
      expect((await runStates.start(current.runId, 1, report())).proceed).toBe(
        false,
      );
    });

    it('records each publish as soon as the queue took it, with at most 80 messages sent but unrecorded', async () => {
      await addTasks(400);
      let sentMessages = 0;
      let recordedMessages = 0;
      let worst = 0;
      // The database records slowly: without the bound, sends would run far ahead of the records.
      const slowStore = Object.create(store) as DispatchStore;
      let recordStatements = 0;
      slowStore.markPublished = async entries => {
        recordStatements++;
        await sleep(30);
        await store.markPublished(entries);
        recordedMessages += entries.length;
      };
      const countingQueue: TaskQueue = {
        maxBatchSize: 10,
        durable: true,
        async publish(messages): Promise<PublishOutcome[]> {
          worst = Math.max(
            worst,
            sentMessages + messages.length - recordedMessages,
          );
          const outcomes = await queue.publish(messages);
          sentMessages += messages.length;
          return outcomes;
        },
        close: async () => {},
      };
      const dispatcher = new Dispatcher({
        store: slowStore,
        queue: countingQueue,
        logger,
        instanceId: 'a',
        batchSize: 400,
      });
      expect(await dispatcher.tick()).toMatchObject({ published: 400 });
      expect(worst).toBeGreaterThan(10); // sends and records overlapped…
      expect(worst).toBeLessThanOrEqual(80); // …within the bound
      expect(recordedMessages).toBe(400);
      // Records went per request at most (40 requests of 10), never one statement per run. (Grouping across
      // requests depends on how fast the queue answers: on a loaded machine it may not happen.)
      expect(recordStatements).toBeLessThanOrEqual(40);
      const rows = await runs();
      expect(rows.every(r => r.status === 'queued')).toBe(true);
      expect(await drainQueue(sqs, queueUrl)).toHaveLength(400);
    });

    it('sends the runs due within the publish window together while a request is in flight, none early', async () => {
      const first = Date.now() + 1500;
      // Five instants 1 ms apart (within the 5 ms window), then one 100 ms later (outside it).
      const offsets = [0, 1, 2, 3, 4, 100];
      for (const offset of offsets) {
        await addTasks(1, {
          at: first + offset,
          name: `At +${offset} ms`,
          instrumentRef: `resource:default/reader-${offset}`,
        });
      }
      const requests: { sentAt: number; offsets: number[] }[] = [];
      // Each request takes 20 ms: the next instants come while it is in flight.
      const queueOf20Ms = slowQueue(20, messages =>
        requests.push({
          sentAt: Date.now(),
          offsets: messages.map(m => Date.parse(m.scheduledFor) - first),
        }),
      );
      const dispatcher = new Dispatcher({
        store,
        queue: queueOf20Ms,
        logger,
        instanceId: 'a',
        // One round claims all six (they are due within the look-ahead).
        lookAheadMs: 3_000,
        publishWindowMs: 5,
      });

      expect(await dispatcher.tick()).toMatchObject({ published: 6 });

      // Each run once, and none sent before its instant.
      expect(requests.flatMap(r => r.offsets).sort((a, b) => a - b)).toEqual(
        offsets,
      );
      for (const request of requests) {
        expect(request.sentAt).toBeGreaterThanOrEqual(
          first + Math.max(...request.offsets),
        );
      }
      // +0 goes alone or with what was due when the timer fired; the rest of +0..+4 goes in one request,
      // sent while the first is in flight (each at its own instant: up to five requests).
      const withinWindow = requests.filter(r => r.offsets.some(o => o < 5));
      expect(withinWindow.length).toBeLessThanOrEqual(2);
      expect(await drainQueue(sqs, queueUrl)).toHaveLength(6);
    });

    it('goes on recording after a lost database connection, within the lease', async () => {
      await addTasks(20);
      let failuresLeft = 3;
      const flakyStore = Object.create(store) as DispatchStore;
      flakyStore.markPublished = async entries => {
        if (failuresLeft-- > 0) throw new Error('Connection terminated');
        await store.markPublished(entries);
      };
      const dispatcher = new Dispatcher({
        store: flakyStore,
        queue,
        logger,
        instanceId: 'a',
      });
      expect(await dispatcher.tick()).toMatchObject({ published: 20 });
      // Nothing is left for another replica to publish again.
      expect((await runs()).every(r => r.status === 'queued')).toBe(true);
      expect(await drainQueue(sqs, queueUrl)).toHaveLength(20);
    });

    it('finds the end of a queue outage by probing, instead of waiting out the backoff', async () => {
      await addTasks(5, { policies: { instrumentConcurrency: null } });
      let down = true;
      const flakyQueue: TaskQueue = {
        maxBatchSize: 10,
        publish: async messages =>
          down
            ? messages.map(m => ({
                runId: m.runId,
                ok: false,
                error: 'connect ECONNREFUSED',
              }))
            : queue.publish(messages),
        probe: async () => {
          if (down) throw new Error('connect ECONNREFUSED');
        },
        close: async () => {},
      };
      // A backoff far longer than the test: only the probe can bring the runs out in time.
      const dispatcher = new Dispatcher({
        store,
        queue: flakyQueue,
        logger,
        instanceId: 'a',
        retryInitialDelayMs: 600_000,
        retryMaxDelayMs: 600_000,
        queueProbeIntervalMs: 100,
        pollIntervalMs: 200,
      });
      dispatcher.start();
      try {
        for (let i = 0; i < 100; i++) {
          const rows = await runs();
          if (rows.length === 5 && rows.every(r => r.publish_failures > 0))
            break;
          await sleep(50);
        }
        const deferred = await runs();
        expect(deferred.map(r => r.status)).toEqual(Array(5).fill('pending'));
        // Released, not held: taking them up again is not a dead replica's recovery.
        expect(deferred.every(r => r.claimed_by === null)).toBe(true);
        down = false;
        for (let i = 0; i < 200; i++) {
          if ((await runs()).every(r => r.status === 'queued')) break;
          await sleep(50);
        }
        expect((await runs()).map(r => r.status)).toEqual(
          Array(5).fill('queued'),
        );
      } finally {
        await dispatcher.stop();
      }
      expect(await drainQueue(sqs, queueUrl)).toHaveLength(5);
    });

    it('fails a run whose message the queue refuses for good, freeing its instrument for the next run', async () => {
      const smallQueueUrl = await createQueue(sqs, `small-${Date.now()}`, {
        MaximumMessageSize: '1024',
      });
      const smallQueue = new SqsTaskQueue({
        queueUrl: smallQueueUrl,
        client: sqs,
      });
      const now = Date.now();
      const instrumentRef = 'resource:default/shared-reader';
      // The first run's message is too large for this queue; the second one fits.
      await addTasks(1, {
        at: now - 20,
        instrumentRef,
        parameters: { startNm: 230, note: 'x'.repeat(2000) },
      });
      await addTasks(1, { at: now - 10, instrumentRef });
      const dispatcher = new Dispatcher({
        store,
        queue: smallQueue,
        logger,
        instanceId: 'a',
        slotRetryMs: 50,
      });
      const first = await dispatcher.tick();
      expect(first).toMatchObject({ rejected: 1, failed: 0 });
      await sleep(60);
      await dispatcher.tick();
      const [refused, next] = await runs();
      expect(refused).toMatchObject({ status: 'failed', slot: null });
      expect(refused.error).toMatch(/queue refused.*InvalidParameterValue/);
      expect(next).toMatchObject({ status: 'queued' });
      expect(await drainQueue(sqs, smallQueueUrl)).toHaveLength(1);
    });

    it('publishes text SQS forbids in a message (U+FFFF) as JSON escapes: the executor reads the original', async () => {
      const name = 'Odd \uffff name \ufffe';
      await addTasks(1, { name });
      const dispatcher = new Dispatcher({
        store,
        queue,
        logger,
        instanceId: 'a',
      });
      expect(await dispatcher.tick()).toMatchObject({
        published: 1,
        rejected: 0,
      });
      const [message] = await drainQueue(sqs, queueUrl);
      expect(message.taskName).toBe(name);
      expect(parseRunMessage(JSON.stringify(message)).taskName).toBe(name);
    });
    it('gives a manual run a token of its own at once: no report can start or finish it without its message', async () => {
      const [task] = await addTasks(1, { at: Date.now() + 3_600_000 });
      const run = await tasks.triggerRun(
        task.id,
        'user:default/ada',
        Date.now(),
      );
      const report = { actor: 'service:scripts', nowMs: Date.now() };
      expect((await runStates.start(run.id, 1, report)).proceed).toBe(false);
      await expect(
        runStates.succeed(
          run.id,
          {
            measurementType: 'absorbance-spectrum',
            driver: 'forged',
            summary: {},
            qc: { status: 'pass', checks: [] },
            rawData: { uri: 'file:///x', bytes: 1, sha256: 'a'.repeat(64) },
            durationMs: 1,
          },
          report,
        ),
      ).rejects.toThrow(/no claim token/);
      // During an upgrade from executors without tokens, reports without one are let through.
      const upgrading = new RunStateStore(knex, {
        staleRunningMs: 60_000,
        acceptReportsWithoutClaimToken: true,
      });
      expect((await upgrading.start(run.id, 1, report)).proceed).toBe(true);
    });

    it('releases what it could not publish before its lease ended, instead of holding it until it expires', async () => {
      await addTasks(30, { policies: { instrumentConcurrency: null } });
      // 10 messages at a time, 400 ms each, and a lease whose publish deadline is 80 % of 1 s.
      const dispatcher = new Dispatcher({
        store,
        queue: slowQueue(400),
        logger,
        instanceId: 'slow',
        leaseMs: 1_000,
        maxUnrecordedMessages: 10,
      });
      const result = await dispatcher.tick();
      expect(result.published).toBeGreaterThan(0);
      expect(result.published).toBeLessThan(30);
      const left = (await runs()).filter(r => r.status === 'pending');
      expect(left).toHaveLength(30 - result.published);
      // Released: no claimant, claimable now — not a dead replica's claim to wait out.
      for (const row of left) {
        expect(row.claimed_by).toBeNull();
        expect(Number(row.lease_expires_at)).toBeLessThanOrEqual(Date.now());
      }
    });

    it('reports a heartbeat only for rounds that work', async () => {
      let beats = 0;
      const metrics = createDispatcherMetrics();
      metrics.heartbeat = { add: (n: number) => (beats += n) } as any;
      const broken = Object.create(store) as DispatchStore;
      broken.claimDueTasks = async () => {
        throw new Error('password authentication failed');
      };
      const failing = new Dispatcher({
        store: broken,
        queue,
        logger,
        instanceId: 'failing',
        metrics,
        pollIntervalMs: 50,
      });
      failing.start();
      await sleep(400);
      await failing.stop();
      expect(beats).toBe(0);
      const working = new Dispatcher({
        store,
        queue,
        logger,
        instanceId: 'working',
        metrics,
        pollIntervalMs: 50,
      });
      working.start();
      await sleep(400);
      await working.stop();
      expect(beats).toBeGreaterThan(0);
    });
  },
);
