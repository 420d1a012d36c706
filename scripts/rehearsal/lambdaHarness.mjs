// Drives the built Lambda like SQS's event source mapping: up to MaximumConcurrency concurrent invocations, each
// fed by ReceiveMessage with the mapping's batch size and batching window, DeleteMessageBatch of every record
// not in batchItemFailures, nothing deleted when the invocation fails (the visibility timeout brings the messages
// back; the queue's redrive policy moves them to the DLQ). Every delivery is recorded.
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const CONTAINER = join(import.meta.dirname, 'lambdaContainer.mjs');
const root = resolve(import.meta.dirname, '../..');

function startContainer({ taskDir, handler, env, name, logDir }) {
  const child = spawn(
    process.execPath,
    [CONTAINER, taskDir, handler, 'lab-scheduler-executor'],
    {
      cwd: taskDir,
      // The nodejs22.x runtime provides the AWS SDK v3 (the bundle leaves it out): the repository's copy stands in.
      env: { ...env, NODE_PATH: join(root, 'node_modules') },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  const logs = [];
  const logFile = createWriteStream(join(logDir, `${name}.log`));
  const keep = chunk => {
    logFile.write(chunk);
    logs.push(String(chunk));
    if (logs.length > 200) logs.splice(0, 100);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  // A dead container's IPC channel fails writes (EPIPE): the invocation fails through `exited` instead.
  child.on('error', () => {});
  const pending = new Map();
  const exited = new Promise(r =>
    child.once('exit', (code, signal) => {
      logFile.end(`--- exited: ${signal ?? code}\n`);
      for (const { reject } of pending.values())
        reject(new Error(`Runtime exited (${signal ?? code})`));
      pending.clear();
      r({ code, signal });
    }),
  );
  const ready = new Promise((res, rej) => {
    child.once('message', m =>
      m.ready ? res() : rej(new Error('container not ready')),
    );
    exited.then(({ code, signal }) =>
      rej(
        new Error(
          `container ${name} died at init (${signal ?? code}): ${logs
            .join('')
            .slice(-2000)}`,
        ),
      ),
    );
  });
  child.on('message', m => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error) p.reject(new Error(m.error));
    else p.resolve(m.result);
  });
  return {
    name,
    child,
    logs,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
    async invoke(event, timeoutMs) {
      await ready;
      const id = randomUUID();
      return new Promise((res, rej) => {
        pending.set(id, { resolve: res, reject: rej });
        const timer = setTimeout(() => {
          // Lambda stops a timed-out invocation's runtime.
          child.kill('SIGKILL');
        }, timeoutMs);
        exited.then(() => clearTimeout(timer));
        const done = () => clearTimeout(timer);
        pending.get(id).resolve = v => (done(), res(v));
        pending.get(id).reject = e => (done(), rej(e));
        child.send({ id, event, deadline: Date.now() + timeoutMs });
      });
    },
    kill() {
      if (this.alive()) child.kill('SIGKILL');
      return exited;
    },
  };
}

function toRecord(m, queueArn) {
  return {
    messageId: m.MessageId,
    receiptHandle: m.ReceiptHandle,
    body: m.Body,
    attributes: {
      ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
      SenderId: 'rehearsal',
      ApproximateFirstReceiveTimestamp:
        m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [
        k,
        {
          stringValue: v.StringValue,
          dataType: v.DataType,
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

function runIdOf(body) {
  try {
    return JSON.parse(body).runId;
  } catch {
    return undefined;
  }
}

export function startLambdaHarness({
  sqs,
  queueUrl,
  queueArn,
  taskDir,
  handler,
  env,
  batchSize,
  batchingWindowSeconds,
  maxConcurrency,
  timeoutSeconds,
  logDir,
}) {
  mkdirSync(logDir, { recursive: true });
  const client = sqs.sqsClient({ maxAttempts: 1 });
  const abort = new AbortController();
  /** Every delivery: { messageId, runId, receiveCount, sentTimestamp, receivedAt } */
  const deliveries = [];
  const invocations = { ok: 0, failed: 0, errors: [] };
  let pollErrors = 0;
  let coldStarts = 0;
  let itemFailures = 0;
  let lastFailureLogs = '';
  /** slot -> { container, batch: runIds[] } */
  const slots = [];
  let running = true;

  async function receiveBatch() {
    const messages = [];
    const windowEnd = Date.now() + batchingWindowSeconds * 1000;
    do {
      const wait =
        messages.length === 0
          ? 20
          : Math.max(0, Math.ceil((windowEnd - Date.now()) / 1000));
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, batchSize - messages.length),
          WaitTimeSeconds: Math.min(20, wait),
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: abort.signal },
      );
      messages.push(...Messages);
      if (Messages.length === 0 && messages.length > 0) break;
    } while (
      running &&
      messages.length > 0 &&
      messages.length < batchSize &&
      Date.now() < windowEnd
    );
    return messages;
  }

  async function slotLoop(index) {
    const slot = { index, container: undefined, batch: [] };
    slots.push(slot);
    while (running) {
      let messages;
      try {
        messages = await receiveBatch();
      } catch (error) {
        if (!running) return;
        pollErrors += 1;
        await new Promise(r => setTimeout(r, 1_000));
        continue;
      }
      if (messages.length === 0) continue;
      const receivedAt = Date.now();
      for (const m of messages)
        deliveries.push({
          messageId: m.MessageId,
          runId: runIdOf(m.Body),
          receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
          sentTimestamp: Number(m.Attributes?.SentTimestamp ?? 0),
          receivedAt,
        });
      if (!slot.container?.alive()) {
        coldStarts += 1;
        slot.container = startContainer({
          taskDir,
          handler,
          env,
          name: `lambda-${index}-${coldStarts}`,
          logDir,
        });
      }
      slot.batch = messages.map(m => runIdOf(m.Body));
      let result;
      try {
        result = await slot.container.invoke(
          { Records: messages.map(m => toRecord(m, queueArn)) },
          timeoutSeconds * 1000,
        );
        invocations.ok += 1;
      } catch (error) {
        // A failed invocation deletes nothing: the messages come back after the visibility timeout.
        invocations.failed += 1;
        invocations.errors.push({
          at: Date.now(),
          error: String(error),
          runIds: slot.batch,
        });
        lastFailureLogs = slot.container.logs.slice(-20).join('');
        slot.batch = [];
        continue;
      }
      slot.batch = [];
      const failed = new Set(
        (result?.batchItemFailures ?? []).map(f => f.itemIdentifier),
      );
      if (failed.size > 0) {
        itemFailures += failed.size;
        lastFailureLogs = slot.container.logs.slice(-20).join('');
      }
      const done = messages.filter(m => !failed.has(m.MessageId));
      for (let attempt = 0; done.length > 0; attempt++) {
        try {
          await client.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: done.map((m, i) => ({
                Id: String(i),
                ReceiptHandle: m.ReceiptHandle,
              })),
            }),
          );
          break;
        } catch {
          // The queue is unreachable: the mapping retries the delete; past that, redelivery will tell.
          if (!running || attempt >= 30) break;
          await new Promise(r => setTimeout(r, 1_000));
        }
      }
    }
  }

  const loops = Array.from({ length: maxConcurrency }, (_, i) => slotLoop(i));

  return {
    deliveries,
    invocations,
    stats: () => ({
      pollErrors,
      coldStarts,
      containers: slots.filter(s => s.container?.alive()).length,
      invocationsOk: invocations.ok,
      invocationsFailed: invocations.failed,
      recordsFailed: itemFailures,
    }),
    /** The end of the logs of the last container that reported a failure (for diagnosis). */
    lastFailureLogs: () => lastFailureLogs.slice(-4000),
    /** SIGKILLs a container whose current batch has a measurement in flight at the gateway. */
    killContainerMeasuring(inFlight) {
      const slot = slots.find(
        s => s.container?.alive() && s.batch.some(id => inFlight.has(id)),
      );
      if (!slot) return undefined;
      const batch = [...slot.batch];
      const measuring = batch.filter(id => inFlight.has(id));
      slot.container.kill();
      return { container: slot.container.name, batch, measuring };
    },
    async stop() {
      running = false;
      abort.abort();
      await Promise.allSettled(loops);
      await Promise.all(slots.map(s => s.container?.kill()));
      client.destroy();
    },
  };
}
