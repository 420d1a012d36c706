import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** A real SQS-compatible server (fauxqs) in a child process, reached through the real AWS SDK. */
export interface FauxqsProcess {
  port: number;
  endpoint: string;
  /** Stops the server (like an outage); `start` brings it back on the same port with the same data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  client(): SQSClient;
}

const SCRIPT = resolve(__dirname, 'fauxqsServer.mjs');

function launch(
  port: number,
  dataDir: string,
): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [SCRIPT, String(port), dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`fauxqs did not start: ${output}`)),
      15_000,
    );
    child.stdout!.on('data', chunk => {
      output += chunk;
      const match = /READY (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePromise({ child, port: Number(match[1]) });
      }
    });
    child.stderr!.on('data', chunk => {
      output += chunk;
    });
    child.on('exit', code => {
      clearTimeout(timer);
      if (!/READY/.test(output))
        reject(new Error(`fauxqs exited with ${code}: ${output}`));
    });
  });
}

/**
 * `persist: false` keeps the messages in the server's memory only (`start` after `stop` then brings back
 * an empty server). The benchmark measures with both: fauxqs persists each request with a synchronous
 * SQLite commit in its one event loop, a cost that real SQS pays on its own servers, not on this machine.
 */
export async function startFauxqsProcess(
  options: { persist?: boolean } = {},
): Promise<FauxqsProcess> {
  const dataDir =
    options.persist === false ? '' : mkdtempSync(join(tmpdir(), 'fauxqs-'));
  const launched = await launch(0, dataDir);
  const port = launched.port;
  let child = launched.child;
  const clients: SQSClient[] = [];
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise(r => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
    async start() {
      ({ child } = await launch(port, dataDir));
    },
    client() {
      const client = new SQSClient({
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${port}`,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      });
      clients.push(client);
      return client;
    },
  };
}

export async function createQueue(
  client: SQSClient,
  name: string,
  attributes: Record<string, string> = {},
): Promise<string> {
  const result = await client.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  return result.QueueUrl!;
}

export async function approximateCount(
  client: SQSClient,
  queueUrl: string,
): Promise<number> {
  const result = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
      ],
    }),
  );
  return (
    Number(result.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(result.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** Receives and deletes every message on the queue; returns the parsed bodies. */
export async function drainQueue(
  client: SQSClient,
  queueUrl: string,
): Promise<any[]> {
  const bodies: any[] = [];
  for (;;) {
    const result = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 300,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = result.Messages ?? [];
    if (messages.length === 0) return bodies;
    for (const m of messages)
      bodies.push({ ...JSON.parse(m.Body!), _attributes: m.MessageAttributes });
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({
          Id: String(i),
          ReceiptHandle: m.ReceiptHandle!,
        })),
      }),
    );
  }
}
