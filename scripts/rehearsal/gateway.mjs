// An instrument gateway implementing the HTTP driver's contract (`POST {endpoint}/measure`), answering with the
// simulated driver's realistic data after a measurement time, and counting measurements per run at the driver:
// started, completed (answer sent in full) and aborted (the client went away first).
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

/**
 * The simulated driver, from source through Backstage's transform. Not from -node's dist even when a build left
 * one: the dist requires -common by its workspace name, whose entry point is TypeScript source, and without the
 * transform Node 22 loads that as an ES module and fails on its extension-less imports (CI builds the dists in
 * its packages step, before the rehearsal).
 */
function loadSimulatedDriver() {
  const require = createRequire(join(root, 'package.json'));
  require('@backstage/cli/config/nodeTransform.cjs');
  return require(join(
    root,
    'plugins/lab-scheduler-node/src/drivers/SimulatedInstrumentDriver.ts',
  )).SimulatedInstrumentDriver;
}

export async function startGateway({ minMs = 300, maxMs = 800 } = {}) {
  const SimulatedInstrumentDriver = loadSimulatedDriver();
  const driver = new SimulatedInstrumentDriver({ delayMs: 0 });
  /** runId -> { started, completed, aborted } */
  const counts = new Map();
  /** runId -> number of measurements in progress */
  const inFlight = new Map();
  const countOf = runId => {
    let c = counts.get(runId);
    if (!c) counts.set(runId, (c = { started: 0, completed: 0, aborted: 0 }));
    return c;
  };

  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/measure') {
      res.writeHead(404).end();
      return;
    }
    let body = '';
    req.on('data', chunk => {
      body += chunk;
    });
    req.on('end', async () => {
      let request;
      try {
        request = JSON.parse(body);
      } catch {
        res.writeHead(400).end('{"error":"invalid JSON"}');
        return;
      }
      const { runId } = request;
      const c = countOf(runId);
      c.started += 1;
      inFlight.set(runId, (inFlight.get(runId) ?? 0) + 1);
      let settled = false;
      const settle = outcome => {
        if (settled) return;
        settled = true;
        c[outcome] += 1;
        const left = inFlight.get(runId) - 1;
        if (left > 0) inFlight.set(runId, left);
        else inFlight.delete(runId);
      };
      res.on('close', () =>
        settle(res.writableFinished ? 'completed' : 'aborted'),
      );
      await new Promise(r =>
        setTimeout(r, minMs + Math.random() * (maxMs - minMs)),
      );
      if (res.destroyed) return;
      try {
        const raw = await driver.measure(request);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            acquiredAt: raw.acquiredAt,
            units: raw.units,
            data: raw.data,
          }),
        );
      } catch (error) {
        res.writeHead(422, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: String(error) }));
      }
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise(r => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    inFlight,
    close: () =>
      new Promise(r => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
