import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  CreateBucketCommand,
  GetObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockCredentials, TestDatabaseId } from '@backstage/backend-test-utils';
import {
  asUser,
  createTestDatabases,
  databaseIds,
  drainQueue,
  FauxqsProcess,
  startFauxqsProcess,
  startLabSchedulerBackend,
  validTask,
} from '../../plugins/lab-scheduler-backend/src/__testUtils__';
import { createHash } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { pollOnce } from './__testUtils__/poller';

jest.setTimeout(120_000);

/*
 * End to end on real parts: API → dispatcher (PostgreSQL or SQLite) → SQS (fauxqs) → a poller feeding
 * this handler like Lambda's event source mapping → executor → run events back to the API; raw data in
 * S3 (fauxqs). An HTTP instrument gateway that answers 503 drives the fault → retry → DLQ path.
 */

const databases = createTestDatabases();
const API = '/api/lab-scheduler';
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const MAX_RECEIVE = 3;

describe.each(databaseIds)(
  'measurement Lambda end to end on %s',
  (databaseId: TestDatabaseId) => {
    let fauxqs: FauxqsProcess;
    let sqs: SQSClient;
    let s3: S3Client;
    let gateway: Server;
    let gatewayCalls = 0;
    let gatewayTimes: number[] = [];
    let backend: Awaited<ReturnType<typeof startLabSchedulerBackend>>;
    let queueUrl: string;
    let queueArn: string;
    let dlqUrl: string;
    let handler: typeof import('./handler').handler;

    beforeAll(async () => {
      fauxqs = await startFauxqsProcess();
      sqs = fauxqs.client();
      s3 = new S3Client({
        region: 'us-east-1',
        endpoint: fauxqs.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      const suffix = `${databaseId
        .toLowerCase()
        .replace(/_/g, '-')}-${Date.now()}`;
      dlqUrl = (
        await sqs.send(
          new CreateQueueCommand({ QueueName: `runs-dlq-${suffix}` }),
        )
      ).QueueUrl!;
      const dlqArn = (
        await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: dlqUrl,
            AttributeNames: ['QueueArn'],
          }),
        )
      ).Attributes!.QueueArn!;
      queueUrl = (
        await sqs.send(
          new CreateQueueCommand({
            QueueName: `runs-${suffix}`,
            Attributes: {
              VisibilityTimeout: '1',
              RedrivePolicy: JSON.stringify({
                deadLetterTargetArn: dlqArn,
                maxReceiveCount: MAX_RECEIVE,
              }),
            },
          }),
        )
      ).QueueUrl!;
      queueArn = (
        await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: queueUrl,
            AttributeNames: ['QueueArn'],
          }),
        )
      ).Attributes!.QueueArn!;
      await s3.send(new CreateBucketCommand({ Bucket: `raw-${suffix}` }));

      gateway = createServer((_req, res) => {
        gatewayCalls++;
        gatewayTimes.push(Date.now());
        res.writeHead(503).end('lamp failure');
      });
      await new Promise<void>(r => gateway.listen(0, '127.0.0.1', r));

      Object.assign(process.env, {
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      });
      backend = await startLabSchedulerBackend(
        await databases.init(databaseId),
        {
          labScheduler: {
            dispatcher: { enabled: true, pollInterval: '500ms' },
            queue: {
              type: 'sqs',
              sqs: { queueUrl, region: 'us-east-1', endpoint: fauxqs.endpoint },
            },
          },
        },
      );
      const port = (backend.server.address() as AddressInfo).port;
      Object.assign(process.env, {
        LAB_SCHEDULER_API_URL: `http://127.0.0.1:${port}${API}`,
        LAB_SCHEDULER_SERVICE_TOKEN: mockCredentials.service.token(),
        RAW_DATA_BUCKET: `raw-${suffix}`,
        RAW_DATA_PREFIX: 'raw/',
        AWS_ENDPOINT_URL_S3: fauxqs.endpoint,
        MAX_RECEIVE_COUNT: String(MAX_RECEIVE),
        QUEUE_URL: queueUrl,
        RETRY_BASE_SECONDS: '1',
        AWS_ENDPOINT_URL_SQS: fauxqs.endpoint,
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        POWERTOOLS_METRICS_DISABLED: 'true',
        SIMULATED_INSTRUMENTS_ALLOWED: 'true', // plate-reader-1 has no gateway
        INSTRUMENT_GATEWAYS: JSON.stringify([
          {
            instrumentRef: 'resource:default/ph-meter-1',
            endpoint: `http://127.0.0.1:${
              (gateway.address() as AddressInfo).port
            }`,
          },
        ]),
      });
      jest.resetModules(); // a fresh handler module reads this environment at its cold start
      handler = require('./handler').handler;
    });

    afterAll(async () => {
      await backend?.stop();
      if (gateway) await new Promise(r => gateway.close(r));
      await fauxqs?.stop();
    });

    /** Runs the poller until `done` holds (or the time is up). */
    async function pollUntil(done: () => Promise<boolean>, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!(await done()) && Date.now() < deadline) {
        const { received } = await pollOnce({
          sqs,
          queueUrl,
          queueArn,
          handler,
        });
        if (received === 0) await sleep(100);
      }
    }

    const runsOf = async (taskId: string) =>
      (
        await request(backend.server)
          .get(`${API}/tasks/${taskId}/runs`)
          .set('Authorization', asUser())
      ).body.items;

    async function createTask(body: object) {
      const res = await request(backend.server)
        .post(`${API}/tasks`)
        .set('Authorization', asUser())
        .send({
          ...validTask,
          ...body,
          schedule: {
            type: 'once',
            at: new Date(Date.now() + 1000).toISOString(),
          },
        });
      expect(res.status).toBe(201);
      return res.body;
    }

    it('measures a due task: dispatcher → SQS → Lambda → run succeeded with summary and raw data in S3', async () => {
      const task = await createTask({
        measurement: {
          type: 'plate-od',
          parameters: { qc: { maxBlankOd: 0.2 } },
        },
      });
      await pollUntil(
        async () => (await runsOf(task.id))[0]?.status === 'succeeded',
      );
      const [run] = await runsOf(task.id);
      expect(run).toMatchObject({
        status: 'succeeded',
        attempt: 1,
        error: null,
        result: {
          measurementType: 'plate-od',
          driver: 'simulated',
          qc: { status: 'pass' },
          summary: expect.objectContaining({
            wells: 96,
            meanOd: expect.any(Number),
          }),
          rawData: {
            uri: expect.stringMatching(/^s3:\/\/raw-.*\/raw\/runs\//),
          },
        },
      });
      const key = run.result.rawData.uri.replace(/^s3:\/\/[^/]+\//, '');
      const object = await s3.send(
        new GetObjectCommand({ Bucket: process.env.RAW_DATA_BUCKET, Key: key }),
      );
      const body = await object.Body!.transformToString();
      expect(createHash('sha256').update(body).digest('hex')).toBe(
        run.result.rawData.sha256,
      );
      expect(JSON.parse(body).data.od).toHaveLength(8);
    });

    it('measures once when the same message is delivered twice', async () => {
      const task = await createTask({});
      // Capture the message instead of letting the poller consume it, then deliver it twice.
      let messages: any[] = [];
      for (let i = 0; i < 100 && messages.length === 0; i++) {
        await sleep(100);
        messages = (await drainQueue(sqs, queueUrl)).filter(
          m => m.taskId === task.id,
        );
      }
      expect(messages).toHaveLength(1);
      const { _attributes, ...message } = messages[0];
      for (let i = 0; i < 2; i++) {
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: JSON.stringify(message),
          }),
        );
      }
      await pollUntil(async () => false, 4_000);
      const [run] = await runsOf(task.id);
      expect(run.status).toBe('succeeded');
      const finishedAt = run.finishedAt;
      // Deliver once more after it finished: acknowledged, nothing re-measured.
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify(message),
        }),
      );
      await pollUntil(async () => false, 2_000);
      const [after] = await runsOf(task.id);
      expect(after.finishedAt).toBe(finishedAt);
      expect(after.attempt).toBe(1);
    });

    it('retries an instrument fault, then dead-letters the run and shows the error', async () => {
      gatewayCalls = 0;
      gatewayTimes = [];
      const task = await createTask({
        instrumentRef: 'resource:default/ph-meter-1',
        measurement: { type: 'ph-timeseries', parameters: {} },
      });
      await pollUntil(
        async () => (await runsOf(task.id))[0]?.status === 'dead_lettered',
        60_000,
      );
      const [run] = await runsOf(task.id);
      expect(run).toMatchObject({
        status: 'dead_lettered',
        attempt: MAX_RECEIVE,
      });
      expect(run.error).toMatch(
        /InstrumentFaultError: Instrument gateway answered 503: lamp failure/,
      );
      expect(gatewayCalls).toBe(MAX_RECEIVE);
      // Exponential backoff between deliveries: 1 s, then 2 s.
      const gaps = gatewayTimes.slice(1).map((t, i) => t - gatewayTimes[i]);
      expect(gaps[0]).toBeGreaterThanOrEqual(900);
      expect(gaps[1]).toBeGreaterThanOrEqual(1900);
      await sleep(1200);
      await pollOnce({ sqs, queueUrl, queueArn, handler }); // lets the redrive move it
      const dead = await drainQueue(sqs, dlqUrl);
      expect(dead.map(m => m.runId)).toContain(run.id);
    });

    it('reports a malformed message in batchItemFailures without failing the batch; it ends in the DLQ', async () => {
      const task = await createTask({});
      await sleep(1500); // the task's run is on the queue now
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: '{"schemaVersion": 1, "runId": "nope"',
        }),
      );
      const first = await pollOnce({ sqs, queueUrl, queueArn, handler });
      expect(first.received).toBe(2);
      expect(first.failed).toBe(1); // the good record succeeded in the same batch
      expect((await runsOf(task.id))[0].status).toBe('succeeded');
      for (let i = 0; i < MAX_RECEIVE + 2; i++) {
        await sleep(1100);
        await pollOnce({ sqs, queueUrl, queueArn, handler });
      }
      const dead = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: dlqUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      expect(
        Number(dead.Attributes!.ApproximateNumberOfMessages),
      ).toBeGreaterThanOrEqual(1);
    });
  },
);
