/*
 * A dispatcher in its own process, for the multi-replica tests: one Postgres, one SQS server, N of these.
 * Configured by environment variables; stops gracefully on SIGTERM.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import knexFactory from 'knex';
import { DispatchStore } from '../database/DispatchStore';
import { Dispatcher } from '../dispatcher/Dispatcher';
import { PgNotifyWakeup } from '../dispatcher/Wakeup';
import { SqsTaskQueue } from '../queue/SqsTaskQueue';
import { PublishOutcome, TaskQueue } from '../queue/TaskQueue';

const env = process.env;
const instanceId = env.INSTANCE_ID!;

const log = (level: string) => (message: string, meta?: object) =>
  process.stderr.write(
    `${JSON.stringify({ level, instanceId, message, ...meta })}\n`,
  );
const logger: any = {
  info: log('info'),
  warn: log('warn'),
  error: log('error'),
  debug: () => {},
  child: () => logger,
};

const knex = knexFactory({
  client: 'pg',
  connection: JSON.parse(env.PG_CONNECTION!),
  pool: { min: 1, max: 4 },
});

const sqsQueue = new SqsTaskQueue({
  queueUrl: env.QUEUE_URL!,
  client: new SQSClient({
    region: 'us-east-1',
    endpoint: env.SQS_ENDPOINT,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  }),
});

/** Optionally slow: holds claimed runs for a while before publishing (a crash window for the tests). */
const publishDelayMs = Number(env.PUBLISH_DELAY_MS ?? 0);
/** NULL_QUEUE=1: accept every message at once (the benchmark's database-only figure). */
const nullQueue = env.NULL_QUEUE === '1';
const queue: TaskQueue = {
  // The SQS queue's limits and probe, so the dispatcher treats it as the real one (the no-op queue of
  // the database-path benchmark is an in-process queue: nothing outlives the process).
  ...(nullQueue
    ? {}
    : {
        maxBatchSize: sqsQueue.maxBatchSize,
        durable: sqsQueue.durable,
        probe: () => sqsQueue.probe(),
      }),
  async publish(messages): Promise<PublishOutcome[]> {
    if (nullQueue) return messages.map(m => ({ runId: m.runId, ok: true }));
    if (publishDelayMs) {
      process.stdout.write(`CLAIMED ${messages.length}\n`);
      await new Promise(r => setTimeout(r, publishDelayMs));
    }
    return sqsQueue.publish(messages);
  },
  close: () => sqsQueue.close(),
};

const wakeup = new PgNotifyWakeup(knex, logger);
const dispatcher = new Dispatcher({
  store: new DispatchStore(knex),
  queue,
  logger,
  wakeup,
  instanceId,
  batchSize: Number(env.BATCH_SIZE ?? 200),
  leaseMs: Number(env.LEASE_MS ?? 30_000),
  pollIntervalMs: Number(env.POLL_MS ?? 1000),
  retryInitialDelayMs: 200,
  retryMaxDelayMs: 2000,
  lookAheadMs: env.LOOKAHEAD_MS ? Number(env.LOOKAHEAD_MS) : undefined,
});

dispatcher.start();
process.stdout.write('STARTED\n');

process.on('SIGTERM', async () => {
  await dispatcher.stop();
  await wakeup.close();
  await queue.close();
  await knex.destroy();
  process.exit(0);
});
