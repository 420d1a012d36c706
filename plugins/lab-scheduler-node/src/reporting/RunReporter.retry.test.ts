import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { HttpRunReporter } from './RunReporter';

/**
 * A backend that cannot take reports for a while (a restarting database answers 500/503): final reports
 * are retried until it can — a lost result would be measured again on redelivery — while a start is not.
 */
async function startFlakyApi(failures: number, failStatus: number) {
  const seen: { type: string; status: number }[] = [];
  let left = failures;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', chunk => (raw += chunk));
    req.on('end', () => {
      const status = left-- > 0 ? failStatus : 200;
      seen.push({ type: JSON.parse(raw).type, status });
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ proceed: true, status: 'running' }));
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    reporter: new HttpRunReporter({
      baseUrl: `http://127.0.0.1:${port}/api/lab-scheduler`,
      token: 'executor-token',
      reportRetryMs: 10_000,
    }),
    seen,
    close: () => new Promise(resolve => server.close(resolve)),
  };
}

const result = {
  measurementType: 'absorbance-spectrum',
  driver: 'simulated',
  summary: {},
  qc: { status: 'pass' as const, checks: [] },
  rawData: { uri: 'file:///r.json', bytes: 1, sha256: 'a'.repeat(64) },
  durationMs: 1,
};
const runId = '01a22400-0000-7000-8000-000000000001';

describe('HttpRunReporter retries', () => {
  it('retries a result the backend could not take (5xx) until it takes it', async () => {
    const api = await startFlakyApi(2, 503);
    try {
      await api.reporter.succeed(runId, result, 'token');
      expect(api.seen.map(s => s.status)).toEqual([503, 503, 200]);
    } finally {
      await api.close();
    }
  });

  it('retries a failure report the same way', async () => {
    const api = await startFlakyApi(1, 500);
    try {
      await api.reporter.fail(runId, 'instrument fault', { retrying: false });
      expect(api.seen.map(s => s.status)).toEqual([500, 200]);
    } finally {
      await api.close();
    }
  });

  it('does not retry a refusal (409), nor a start whose answer decides whether to measure', async () => {
    const refused = await startFlakyApi(5, 409);
    try {
      await expect(refused.reporter.succeed(runId, result)).rejects.toThrow(
        /409/,
      );
      expect(refused.seen).toHaveLength(1);
    } finally {
      await refused.close();
    }
    const down = await startFlakyApi(5, 503);
    try {
      await expect(down.reporter.start(runId, 1, 'token')).rejects.toThrow(
        /503/,
      );
      expect(down.seen).toHaveLength(1);
    } finally {
      await down.close();
    }
  });
});
