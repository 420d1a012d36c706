import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { repoRoot } from './__testUtils__/kustomize';

jest.setTimeout(240_000);

/*
 * The drain on SIGTERM, on a real backend process (the demo portal's backend from source, SQLite in
 * memory) with the lifecycle settings of app-config.production.yaml: readiness turns 503 at once, the
 * API keeps answering for backend.lifecycle.serverShutdownDelay, then the process exits cleanly.
 * Kubernetes and the ALB take the pod out of rotation during that window (k8s.test.ts checks their
 * timings against the same delay).
 */

const root = repoRoot();
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise(resolve => server.close(resolve));
  return port;
}

/** The status of a GET, or the network error's code when nothing answered. */
async function status(url: string): Promise<number | string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await response.arrayBuffer();
    return response.status;
  } catch (error: any) {
    return String(error?.cause?.code ?? error?.name ?? error);
  }
}

describe('graceful drain of the API on SIGTERM', () => {
  let dir: string;
  let backend: ChildProcess | undefined;
  let exited: Promise<number | null>;
  let output = '';

  afterAll(() => {
    if (backend && backend.exitCode === null) backend.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports not-ready, keeps serving through the shutdown delay, then exits', async () => {
    const production = parse(
      readFileSync(join(root, 'app-config.production.yaml'), 'utf8'),
    );
    const lifecycle = production.backend.lifecycle;
    expect(lifecycle.serverShutdownDelay).toBeDefined();

    dir = mkdtempSync(join(tmpdir(), 'drain-'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const configFile = join(dir, 'app-config.drain.yaml');
    writeFileSync(
      configFile,
      stringify({
        app: { baseUrl: base },
        backend: {
          baseUrl: base,
          listen: { host: '127.0.0.1', port },
          database: { client: 'better-sqlite3', connection: ':memory:' },
          cors: { origin: base },
          lifecycle,
        },
      }),
    );
    backend = spawn(
      process.execPath,
      [
        '--require',
        require.resolve('@backstage/cli/config/nodeTransform.cjs'),
        'src/index.ts',
        '--config',
        '../../app-config.yaml',
        '--config',
        configFile,
      ],
      {
        cwd: join(root, 'packages/backend'),
        // As deployed: the HTTP server lets requests in flight finish rather than cutting connections.
        env: { ...process.env, NODE_ENV: 'production' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    backend.stdout!.on('data', chunk => (output += chunk));
    backend.stderr!.on('data', chunk => (output += chunk));
    exited = new Promise(resolve => backend!.on('exit', code => resolve(code)));

    const readiness = `${base}/.backstage/health/v1/readiness`;
    const api = `${base}/api/lab-scheduler/health`;
    for (let i = 0; (await status(readiness)) !== 200; i++) {
      if (backend.exitCode !== null || i > 900)
        throw new Error(`The backend did not become ready:\n${output}`);
      await sleep(200);
    }
    expect(await status(api)).toBe(200);

    backend.kill('SIGTERM');
    const signalledAt = Date.now();
    for (let i = 0; (await status(readiness)) !== 503; i++) {
      if (i > 50) throw new Error(`Readiness never turned 503:\n${output}`);
      await sleep(100);
    }
    const notReadyAt = Date.now();

    // Inside the delay: not ready, yet every API request is answered.
    const during: (number | string)[] = [];
    for (let i = 0; i < 10; i++) {
      during.push(await status(api), await status(readiness));
      await sleep(200);
    }
    expect(during).toEqual(Array.from({ length: 10 }, () => [200, 503]).flat());

    expect(await exited).toBe(0);
    const exitedAt = Date.now();
    expect(await status(readiness)).toBe('ECONNREFUSED');
    // For the report, not asserted (speed is no unit-test property).
    // eslint-disable-next-line no-console
    console.log(
      `SIGTERM → readiness 503 after ${notReadyAt - signalledAt} ms; ` +
        `exit after ${
          exitedAt - signalledAt
        } ms (serverShutdownDelay ${JSON.stringify(
          lifecycle.serverShutdownDelay,
        )})`,
    );
  });
});
