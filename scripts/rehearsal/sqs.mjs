// fauxqs (SQS + S3 emulator) in its own process, so it can be stopped and restarted on the same port with its
// messages kept, like an SQS outage. Queues get the attributes of the CDK stack's template.
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';

const SERVER = resolve(
  import.meta.dirname,
  '../../plugins/lab-scheduler-backend/src/__testUtils__/fauxqsServer.mjs',
);

export const EMULATOR_CREDENTIALS = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'rehearsal',
  AWS_SECRET_ACCESS_KEY: 'rehearsal',
};

function launch(port, dataDir) {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [SERVER, String(port), dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(
      () => rej(new Error(`fauxqs did not start: ${output}`)),
      20_000,
    );
    child.stdout.on('data', chunk => {
      output += chunk;
      const match = /READY (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        res({ child, port: Number(match[1]) });
      }
    });
    child.stderr.on('data', chunk => {
      output += chunk;
    });
    child.on('exit', code => {
      clearTimeout(timer);
      if (!/READY/.test(output))
        rej(new Error(`fauxqs exited with ${code}: ${output}`));
    });
  });
}

export async function startSqs({ workDir }) {
  const dataDir = mkdtempSync(join(workDir, 'fauxqs-'));
  let { child, port } = await launch(0, dataDir);
  const endpoint = `http://127.0.0.1:${port}`;
  const clientOptions = {
    region: EMULATOR_CREDENTIALS.AWS_REGION,
    endpoint,
    credentials: {
      accessKeyId: EMULATOR_CREDENTIALS.AWS_ACCESS_KEY_ID,
      secretAccessKey: EMULATOR_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
    },
  };
  return {
    port,
    endpoint,
    sqsClient: (options = {}) =>
      new SQSClient({ ...clientOptions, ...options }),
    s3Client: () => new S3Client({ ...clientOptions, forcePathStyle: true }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise(r => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
    async start() {
      ({ child } = await launch(port, dataDir));
    },
    async destroy() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise(r => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** The runs queue and its dead-letter queue, with the template's attributes (VisibilityTimeout possibly time-scaled). */
export async function createQueues(sqs, { stack, visibilityTimeoutSeconds }) {
  const client = sqs.sqsClient();
  const dlqUrl = (
    await client.send(
      new CreateQueueCommand({
        QueueName: 'lab-scheduler-runs-dlq',
        Attributes: {
          MessageRetentionPeriod: String(
            stack.deadLetterQueue.messageRetentionSeconds,
          ),
        },
      }),
    )
  ).QueueUrl;
  const dlqArn = (
    await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: dlqUrl,
        AttributeNames: ['QueueArn'],
      }),
    )
  ).Attributes.QueueArn;
  const queueUrl = (
    await client.send(
      new CreateQueueCommand({
        QueueName: 'lab-scheduler-runs',
        Attributes: {
          VisibilityTimeout: String(visibilityTimeoutSeconds),
          MessageRetentionPeriod: String(stack.queue.messageRetentionSeconds),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: dlqArn,
            maxReceiveCount: stack.queue.maxReceiveCount,
          }),
        },
      }),
    )
  ).QueueUrl;
  const queueArn = (
    await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['QueueArn'],
      }),
    )
  ).Attributes.QueueArn;
  client.destroy();
  return { queueUrl, queueArn, dlqUrl };
}

export async function createBucket(sqs, name) {
  const s3 = sqs.s3Client();
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  s3.destroy();
}

export async function queueDepth(client, queueUrl) {
  const { Attributes: a } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
      ],
    }),
  );
  return {
    visible: Number(a.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}
