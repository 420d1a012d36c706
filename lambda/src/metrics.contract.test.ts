import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockCredentials } from '@backstage/backend-test-utils';
import {
  DISPATCH_METRICS,
  METRICS_NAMESPACE,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import {
  asUser,
  createTestDatabases,
  FauxqsProcess,
  startFauxqsProcess,
  startLabSchedulerBackend,
  validTask,
} from '../../plugins/lab-scheduler-backend/src/__testUtils__';
import { EmfMetricExporter } from '@lab-scheduler/plugin-lab-scheduler-node';
import { metrics as otelMetrics } from '@opentelemetry/api';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import type { Context, SQSEvent } from 'aws-lambda';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mkdtempSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { LabSchedulerStack } from './infra/LabSchedulerStack';

jest.setTimeout(120_000);

/*
 * The contract between what runs and what alarms: the real dispatcher (a real backend on SQLite, real
 * SQS in fauxqs) records its metrics through the OpenTelemetry SDK into the EMF exporter configured as
 * packages/backend/instrumentation.js does; the real Lambda handler emits its Powertools EMF on
 * stdout. Every metric an alarm or a dashboard widget of the synthesized CDK stack queries in our
 * namespace must appear in those lines with the same name and exactly the queried dimension set.
 */

const API = '/api/lab-scheduler';
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const databases = createTestDatabases();

type Emf = Record<string, any> & {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string }[];
    }[];
  };
};

interface QueriedMetric {
  where: string;
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  statistic: string;
}

/** Every metric in our namespace that the stack's alarms and dashboard widgets query. */
function queriedMetrics(template: Record<string, any>): QueriedMetric[] {
  const queried: QueriedMetric[] = [];
  for (const [id, resource] of Object.entries<any>(template.Resources)) {
    if (resource.Type === 'AWS::CloudWatch::Alarm') {
      const p = resource.Properties;
      expect(p.Metrics).toBeUndefined(); // no metric maths: each alarm names one metric
      queried.push({
        where: `alarm ${id}`,
        namespace: p.Namespace,
        name: p.MetricName,
        dimensions: Object.fromEntries(
          (p.Dimensions ?? []).map((d: any) => [d.Name, d.Value]),
        ),
        statistic: p.ExtendedStatistic ?? p.Statistic,
      });
    }
    if (resource.Type === 'AWS::CloudWatch::Dashboard') {
      // The body is a join of strings and tokens (region, queue names): tokens become placeholders.
      const [, parts] = resource.Properties.DashboardBody['Fn::Join'];
      const body = JSON.parse(
        parts
          .map((p: unknown) => (typeof p === 'string' ? p : 'TOKEN'))
          .join(''),
      );
      for (const widget of body.widgets) {
        for (const metric of widget.properties.metrics ?? []) {
          const options =
            typeof metric[metric.length - 1] === 'object' ? metric.pop() : {};
          const [namespace, name, ...dims] = metric;
          expect(namespace).not.toBe('.'); // no shorthand this test would misread
          const dimensions: Record<string, string> = {};
          for (let i = 0; i < dims.length; i += 2)
            dimensions[dims[i]] = dims[i + 1];
          queried.push({
            where: `dashboard widget "${widget.properties.title}"`,
            namespace,
            name,
            dimensions,
            statistic: options.stat ?? 'Average',
          });
        }
      }
    }
  }
  return queried.filter(q => q.namespace === METRICS_NAMESPACE);
}

/** Whether one of the EMF documents emits the metric CloudWatch would answer this query from. */
function emits(docs: Emf[], q: QueriedMetric): boolean {
  const keys = Object.keys(q.dimensions).sort();
  return docs.some(doc =>
    doc._aws.CloudWatchMetrics.some(
      directive =>
        directive.Namespace === q.namespace &&
        directive.Metrics.some(m => m.Name === q.name) &&
        directive.Dimensions.some(
          set => JSON.stringify([...set].sort()) === JSON.stringify(keys),
        ) &&
        keys.every(k => doc[k] === q.dimensions[k]) &&
        // A percentile needs a distribution (or raw values), not a statistic set.
        (!/^p\d/.test(q.statistic) ||
          typeof doc[q.name] === 'number' ||
          Array.isArray(doc[q.name]?.Values)),
    ),
  );
}

const sumOf = (docs: Emf[], name: string) =>
  docs.reduce(
    (n, d) => n + (typeof d[name] === 'number' ? (d[name] as number) : 0),
    0,
  );

describe('emitted metrics match what the CDK alarms and dashboard query', () => {
  const dispatcherLines: string[] = [];
  let reader: PeriodicExportingMetricReader;
  let provider: MeterProvider;
  let fauxqs: FauxqsProcess;
  let sqs: SQSClient;
  let queueUrl: string;
  let gateway: Server;
  let backend: Awaited<ReturnType<typeof startLabSchedulerBackend>>;

  /** Flushes until `done` holds for everything exported since the call; returns those documents. */
  async function collectUntil(done: (docs: Emf[]) => boolean) {
    const docs: Emf[] = [];
    const deadline = Date.now() + 30_000;
    while (!done(docs) && Date.now() < deadline) {
      await sleep(100);
      await reader.forceFlush();
      docs.push(...dispatcherLines.splice(0).map(l => JSON.parse(l)));
    }
    return docs;
  }

  beforeAll(async () => {
    // As packages/backend/instrumentation.js does for LAB_SCHEDULER_METRICS_EXPORT=emf; the reader's
    // own timer never fires here: the test flushes.
    reader = new PeriodicExportingMetricReader({
      exporter: new EmfMetricExporter({
        namespace: METRICS_NAMESPACE,
        metrics: Object.values(DISPATCH_METRICS),
        write: line => dispatcherLines.push(line),
      }),
      exportIntervalMillis: 3_600_000,
    });
    provider = new MeterProvider({ readers: [reader] });
    otelMetrics.setGlobalMeterProvider(provider);

    fauxqs = await startFauxqsProcess();
    sqs = fauxqs.client();
    queueUrl = (
      await sqs.send(
        new CreateQueueCommand({ QueueName: `metrics-${Date.now()}` }),
      )
    ).QueueUrl!;
    gateway = createServer((_req, res) =>
      res.writeHead(503).end('lamp failure'),
    );
    await new Promise<void>(r => gateway.listen(0, '127.0.0.1', r));
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    backend = await startLabSchedulerBackend(await databases.init('SQLITE_3'), {
      labScheduler: {
        dispatcher: { enabled: true, pollInterval: '200ms' },
        queue: {
          type: 'sqs',
          sqs: { queueUrl, region: 'us-east-1', endpoint: fauxqs.endpoint },
        },
      },
    });
  });

  afterAll(async () => {
    await backend?.stop();
    await provider?.shutdown();
    otelMetrics.disable();
    if (gateway) await new Promise(r => gateway.close(r));
    await fauxqs?.stop();
  });

  /** Receives (and deletes) run messages until `count` arrived. */
  async function receive(count: number) {
    const bodies: string[] = [];
    const deadline = Date.now() + 30_000;
    while (bodies.length < count && Date.now() < deadline) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      );
      for (const m of Messages) {
        bodies.push(m.Body!);
        await sqs.send(
          new DeleteMessageCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: m.ReceiptHandle!,
          }),
        );
      }
    }
    expect(bodies).toHaveLength(count);
    return bodies;
  }

  async function createTask(body: object) {
    const res = await request(backend.server)
      .post(`${API}/tasks`)
      .set('Authorization', asUser())
      .send({
        ...validTask,
        ...body,
        schedule: {
          type: 'once',
          at: new Date(Date.now() + 500).toISOString(),
        },
      });
    expect(res.status).toBe(201);
    return res.body;
  }

  it('every queried metric is emitted with its name, namespace and exact dimension set; counts are deltas', async () => {
    await collectUntil(() => true); // whatever the start-up recorded

    // Two runs on the plate reader (one at a time) and one on a pH meter whose gateway fails.
    const ok = await createTask({
      measurement: { type: 'plate-od', parameters: { qc: { maxBlankOd: 5 } } },
    });
    await createTask({
      measurement: { type: 'plate-od', parameters: { qc: { maxBlankOd: 0 } } },
    });
    await createTask({
      instrumentRef: 'resource:default/ph-meter-1',
      measurement: { type: 'ph-timeseries', parameters: {} },
    });
    const published = DISPATCH_METRICS.published.name;
    const first = await collectUntil(docs => sumOf(docs, published) >= 2);
    const firstBodies = await receive(2);
    expect(sumOf(first, published)).toBe(2);

    // The Lambda, as its event source mapping would call it; its stdout is where Powertools writes.
    Object.assign(process.env, {
      LAB_SCHEDULER_API_URL: `http://127.0.0.1:${
        (backend.server.address() as AddressInfo).port
      }${API}`,
      LAB_SCHEDULER_SERVICE_TOKEN: mockCredentials.service.token(),
      RAW_DATA_DIRECTORY: mkdtempSync(join(tmpdir(), 'raw-')),
      MAX_RECEIVE_COUNT: '3',
      POWERTOOLS_METRICS_DISABLED: 'false',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
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
    delete process.env.QUEUE_URL; // no redelivery backoff: the messages are not on a queue here
    jest.resetModules();
    const { handler } = require('./handler') as typeof import('./handler');
    const lambdaLines: string[] = [];
    const stdout = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: any) => {
        lambdaLines.push(...String(chunk).split('\n').filter(Boolean));
        return true;
      });
    const invoke = (bodies: string[]) =>
      handler(
        {
          Records: bodies.map((body, i) => ({
            messageId: `m-${Date.now()}-${i}`,
            receiptHandle: 'r',
            body,
            attributes: { ApproximateReceiveCount: '1' },
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:runs',
            awsRegion: 'us-east-1',
          })),
        } as unknown as SQSEvent,
        {} as Context,
      );
    let secondBodies: string[];
    let second: Emf[];
    try {
      const firstResult = await invoke(firstBodies);
      expect(firstResult.batchItemFailures).toHaveLength(1); // the failing gateway
      // The plate reader is free again: the QC-failing run goes out now.
      second = await collectUntil(docs => sumOf(docs, published) >= 1);
      secondBodies = await receive(1);
      await invoke(secondBodies);
      // The first plate-reader message again: a duplicate delivery.
      await invoke(firstBodies.filter(b => JSON.parse(b).taskId === ok.id));
    } finally {
      stdout.mockRestore();
    }
    // Delta temporality: the second export counts only the run published since the first.
    expect(sumOf(second, published)).toBe(1);
    const heartbeats = [...first, ...second].filter(
      d => typeof d[DISPATCH_METRICS.heartbeat.name] === 'number',
    );
    expect(heartbeats.length).toBeGreaterThan(1);

    const lambdaDocs = lambdaLines
      .filter(l => l.startsWith('{'))
      .map(l => JSON.parse(l))
      .filter(d => d._aws) as Emf[];
    expect(lambdaDocs.length).toBeGreaterThan(0);

    const app = new App();
    const stack = new LabSchedulerStack(app, 'Contract', {
      apiUrl: 'https://portal.example.com/api/lab-scheduler',
      codePath: mkdtempSync(join(tmpdir(), 'code-')),
    });
    const queried = queriedMetrics(Template.fromStack(stack).toJSON());
    // Every dispatcher metric is queried somewhere, so none can silently fall out of the check.
    for (const definition of Object.values(DISPATCH_METRICS)) {
      expect(queried.map(q => q.name)).toContain(definition.name);
    }
    const emitted = [...first, ...second, ...lambdaDocs];
    const missing = queried.filter(q => !emits(emitted, q));
    expect(missing).toEqual([]);
  });
});
