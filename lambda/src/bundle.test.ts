import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

jest.setTimeout(120_000);

const root = resolve(__dirname, '..');

/** Builds the deployable zip and runs a sample SQS event through the built bundle itself. */
describe('built Lambda bundle', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], {
      cwd: root,
      stdio: 'pipe',
    });
  });

  it('is a small zip with the handler and no dev dependencies', () => {
    const zip = statSync(join(root, 'dist/lambda.zip'));
    expect(zip.size).toBeLessThan(2 * 1024 * 1024);
    const bundle = require('node:fs').readFileSync(
      join(root, 'dist/handler.js'),
      'utf8',
    );
    expect(bundle).not.toMatch(/aws-cdk-lib|esbuild|jest/);
    // The http gateway driver from its module package, without the backend module around it (the
    // package's `sideEffects: false` lets esbuild leave out @backstage/backend-plugin-api).
    expect(bundle).toMatch(/Instrument gateway refused the measurement/);
    expect(bundle).not.toMatch(/createBackendModule/);
  });

  it('handles a sample event: a malformed record fails alone, a duplicate delivery is acknowledged', async () => {
    // A stand-in for the backend's run-events endpoint: the run was already measured.
    const calls: any[] = [];
    const api = createServer((req, res) => {
      let body = '';
      req.on('data', c => (body += c));
      req.on('end', () => {
        calls.push({
          url: req.url,
          auth: req.headers.authorization,
          body: JSON.parse(body),
        });
        res
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ proceed: false, status: 'succeeded' }));
      });
    });
    await new Promise<void>(r => api.listen(0, '127.0.0.1', r));
    Object.assign(process.env, {
      LAB_SCHEDULER_API_URL: `http://127.0.0.1:${
        (api.address() as AddressInfo).port
      }/api/lab-scheduler`,
      LAB_SCHEDULER_SERVICE_TOKEN: 'sample-token',
      RAW_DATA_DIRECTORY: mkdtempSync(join(tmpdir(), 'bundle-raw-')),
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    try {
      const { handler } = require(join(root, 'dist/handler.js'));
      const message = {
        schemaVersion: 1,
        runId: '7a03aa29-ea0b-4587-9d20-81247edc8bff',
        taskId: '56b85ceb-d654-4aba-be44-1cb67fd9c943',
        taskName: 'Sample',
        instrumentRef: 'resource:default/plate-reader-1',
        owner: 'group:default/lab-ops',
        scheduledFor: '2026-12-01T09:00:00.000Z',
        attempt: 1,
        measurement: {
          type: 'absorbance-spectrum',
          parameters: { startNm: 230, endNm: 700, stepNm: 2, qc: {} },
        },
      };
      const record = (messageId: string, body: string) => ({
        messageId,
        receiptHandle: messageId,
        body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: '0',
          SenderId: 'x',
          ApproximateFirstReceiveTimestamp: '0',
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:runs',
        awsRegion: 'us-east-1',
      });
      const result = await handler(
        {
          Records: [
            record('good', JSON.stringify(message)),
            record('bad', 'not json'),
          ],
        },
        {
          functionName: 'f',
          awsRequestId: 'r',
          getRemainingTimeInMillis: () => 60_000,
        },
      );
      expect(result).toEqual({
        batchItemFailures: [{ itemIdentifier: 'bad' }],
      });
      expect(calls).toEqual([
        {
          url: `/api/lab-scheduler/runs/${message.runId}/events`,
          auth: 'Bearer sample-token',
          body: { type: 'started', attempt: 1 },
        },
      ]);
    } finally {
      await new Promise(r => api.close(r));
    }
  });
});
