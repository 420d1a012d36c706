// `npm run test:image`: proves the production image's backend starts and serves, without a Docker engine.
//
// Builds the image's tarballs (`npm run build:backend`; SKIP_BUILD=1 reuses the ones in
// packages/backend/dist), replays the Dockerfile's steps into a temp folder (scripts/rehearsal/image.mjs),
// starts a private PostgreSQL with TLS (scripts/rehearsal/postgres.mjs) and boots ONE backend with the image's
// CMD, app-config.production.yaml and the environment of the k8s api Deployment (dispatcher off; the queue
// URL is never called by an API replica). Then it checks what an operator would: the probes, the plugin's
// health, the app, authentication, a task round trip with a static token, the restrictions of the
// production config's tokens, the OTLP metrics export and a graceful SIGTERM.
//
// The production config registers no catalog locations and keeps the scripts token commented out; an
// operator registers the org and instruments and enables that token. The check does the same through one
// extra `--config` file (writeOperatorConfig), never by changing the production config.
//
// Prints one JSON line per step with its duration; exits non-zero on the first failure, after printing the
// backend's last log lines (the whole log is in e2e-artifacts/rehearsal/boot-check.log). Everything it
// starts (backend, PostgreSQL, temp folders) is removed on the way out, on failure and on Ctrl-C too.
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  IMAGE_COMMAND,
  dockerfileCommand,
  imageTempDir,
  prepareImage,
  repoRoot,
  startBackend,
} from './rehearsal/image.mjs';
import { freePort, startPrivatePostgres } from './rehearsal/postgres.mjs';

// The production config's two service principals: the executor (the Lambda) and, enabled by the
// operator config below, scripts.
const EXECUTOR_TOKEN = 'boot-check-executor-token-0123456789abcdef';
const SCRIPTS_TOKEN = 'boot-check-scripts-token-0123456789abcdef';
const OWNER = 'group:default/lab-ops';
const INSTRUMENT = 'resource:default/plate-reader-1';

const started = Date.now();
const cleanups = [];
let backend;

function report(line) {
  console.log(JSON.stringify(line));
}

async function step(name, fn) {
  const begun = Date.now();
  try {
    const detail = (await fn()) ?? {};
    report({ step: name, ok: true, ms: Date.now() - begun, ...detail });
  } catch (error) {
    report({
      step: name,
      ok: false,
      ms: Date.now() - begun,
      error: error.message,
    });
    throw error;
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** One HTTP call to the backend; the body is parsed when it is JSON. */
async function call(method, path, { token, body, headers = {} } = {}) {
  const res = await fetch(`${backend.url}${path}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function expectStatus(res, status, what) {
  check(
    res.status === status,
    `${what}: expected ${status}, got ${res.status}: ${res.text.slice(0, 500)}`,
  );
}

function runBuild() {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'scripts/build-backend.mjs')],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    child.on('error', reject);
    child.on('exit', code =>
      code === 0
        ? resolve()
        : reject(new Error(`npm run build:backend failed (exit code ${code})`)),
    );
  });
}

/** A stand-in for the ADOT collector: counts the OTLP/HTTP requests instrumentation.js sends. */
async function startCollector() {
  const received = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    received,
    close: () =>
      new Promise(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function waitFor(what, timeoutMs, probe) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await probe();
    if (last === true) return;
    if (Date.now() > deadline)
      throw new Error(`${what} within ${timeoutMs} ms: ${last}`);
    await new Promise(r => setTimeout(r, 500));
  }
}

/**
 * What an operator adds to the production config, as one extra `--config` file: the org and instruments
 * as catalog locations, and the scripts token the production config has commented out ("uncomment once
 * LAB_SCHEDULER_SCRIPTS_TOKEN is in the Secret"). A list in a later config replaces the earlier one, so
 * the production token list is carried over as it is, with the scripts token added.
 */
function writeOperatorConfig(dir) {
  const target = name => {
    const path = join(dir, name);
    copyFileSync(join(repoRoot, 'examples', name), path);
    return path;
  };
  const production = parse(
    readFileSync(join(repoRoot, 'app-config.production.yaml'), 'utf8'),
  );
  const config = {
    backend: {
      auth: {
        externalAccess: [
          ...production.backend.auth.externalAccess,
          {
            type: 'static',
            options: {
              token: '${LAB_SCHEDULER_SCRIPTS_TOKEN}',
              subject: 'lab-scheduler-scripts',
            },
            accessRestrictions: [{ plugin: 'lab-scheduler' }],
          },
        ],
      },
    },
    catalog: {
      locations: [
        {
          type: 'file',
          target: target('org.yaml'),
          rules: [{ allow: ['User', 'Group'] }],
        },
        {
          type: 'file',
          target: target('instruments.yaml'),
          rules: [{ allow: ['Resource'] }],
        },
      ],
    },
    // The instruments the Lambda has a gateway for (its INSTRUMENT_GATEWAYS): tasks on others are refused.
    labScheduler: {
      execution: {
        instruments: [{ instrumentRef: INSTRUMENT, driver: 'http' }],
      },
    },
  };
  const path = join(dir, 'app-config.operator.yaml');
  writeFileSync(
    path,
    `# Boot check only: what an operator adds to the production config.\n${stringify(
      config,
    )}`,
  );
  return path;
}

async function main() {
  if (process.env.SKIP_BUILD === '1') {
    report({ step: 'build', skipped: 'SKIP_BUILD=1' });
  } else {
    await step('build', runBuild);
  }

  await step('Dockerfile CMD is the command booted here', async () => {
    const cmd = dockerfileCommand();
    check(
      JSON.stringify(cmd) === JSON.stringify(['node', ...IMAGE_COMMAND]),
      `Dockerfile CMD ${JSON.stringify(
        cmd,
      )} differs from scripts/rehearsal/image.mjs`,
    );
  });

  const workDir = imageTempDir();
  cleanups.push(() => rmSync(workDir, { recursive: true, force: true }));

  let imageDir;
  await step('prepare image (Dockerfile steps)', async () => {
    const steps = [];
    imageDir = await prepareImage({ workDir, log: line => steps.push(line) });
    return { imageDir, steps };
  });

  let postgres;
  await step('private PostgreSQL (TLS)', async () => {
    postgres = await startPrivatePostgres();
    cleanups.push(() => postgres.destroy());
    return { port: postgres.port };
  });

  const collector = await startCollector();
  cleanups.push(() => collector.close());
  const operatorConfig = writeOperatorConfig(workDir);

  await step('boot backend from the image', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    backend = await startBackend({
      imageDir,
      name: 'boot-check',
      port,
      configs: [operatorConfig],
      // k8s/base/deployment-api.yaml (env + the ConfigMap/Secret it loads).
      env: {
        ...postgres.backendEnv(),
        APP_BASE_URL: url,
        BACKEND_BASE_URL: url,
        ORGANIZATION_NAME: 'Boot check',
        LAB_SCHEDULER_SERVICE_TOKEN: EXECUTOR_TOKEN,
        LAB_SCHEDULER_SCRIPTS_TOKEN: SCRIPTS_TOKEN,
        LAB_SCHEDULER_DISPATCHER_ENABLED: 'false',
        LAB_SCHEDULER_QUEUE_URL:
          'https://sqs.eu-west-1.amazonaws.com/000000000000/lab-scheduler-runs',
        AWS_REGION: 'eu-west-1',
        NODE_OPTIONS: '--max-old-space-size=768',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_SERVICE_NAME: 'lab-scheduler-api',
        OTEL_METRIC_EXPORT_INTERVAL: '1000',
      },
    });
    cleanups.push(() => backend.kill());
    await backend.waitHealthy(180_000);
    return { url, pid: backend.child.pid };
  });

  await step('probes: liveness and readiness', async () => {
    for (const probe of ['liveness', 'readiness']) {
      expectStatus(
        await call('GET', `/.backstage/health/v1/${probe}`),
        200,
        probe,
      );
    }
  });

  await step('GET /api/lab-scheduler/health', async () => {
    const res = await call('GET', '/api/lab-scheduler/health');
    expectStatus(res, 200, 'plugin health');
    check(res.json?.status === 'ok', `plugin health body: ${res.text}`);
  });

  await step('GET / serves the app', async () => {
    const res = await call('GET', '/');
    expectStatus(res, 200, 'app');
    check(
      /text\/html/.test(res.headers.get('content-type') ?? '') &&
        res.text.includes('<div id="root">'),
      `app index is not the Backstage app: ${res.text.slice(0, 300)}`,
    );
  });

  await step('no token: 401', async () => {
    expectStatus(
      await call('GET', '/api/lab-scheduler/tasks'),
      401,
      'unauthenticated list',
    );
  });

  const taskBody = {
    name: 'Image boot check',
    instrumentRef: INSTRUMENT,
    owner: OWNER,
    measurement: { type: 'absorbance-spectrum', parameters: {} },
    schedule: {
      type: 'cron',
      expression: '0 9 * * 1-5',
      timezone: 'Europe/Berlin',
    },
  };

  await step(
    'POST /tasks without owner (a service caller): 400 naming owner',
    async () => {
      const withoutOwner = { ...taskBody };
      delete withoutOwner.owner;
      const res = await call('POST', '/api/lab-scheduler/tasks', {
        token: SCRIPTS_TOKEN,
        body: withoutOwner,
      });
      expectStatus(res, 400, 'create without owner');
      check(
        res.json?.error?.name === 'InputError' &&
          /owner/.test(res.json.error.message),
        `the 400 does not name owner: ${res.text}`,
      );
    },
  );

  let task;
  await step('POST /api/lab-scheduler/tasks (scripts token)', async () => {
    // The catalog ingests the locations in the background after start-up: until it has, the instrument
    // or the owner is "not in the catalog" (a 400 naming it), which is the only answer retried.
    const begun = Date.now();
    let attempts = 0;
    let res;
    for (;;) {
      attempts += 1;
      res = await call('POST', '/api/lab-scheduler/tasks', {
        token: SCRIPTS_TOKEN,
        body: taskBody,
      });
      const waitingForCatalog =
        res.status === 400 && /in the catalog/.test(res.json?.error?.message);
      if (!waitingForCatalog || Date.now() - begun > 120_000) break;
      await new Promise(r => setTimeout(r, 500));
    }
    expectStatus(res, 201, 'create');
    task = res.json;
    for (const field of ['name', 'instrumentRef', 'owner']) {
      check(
        task?.[field] === taskBody[field],
        `created task ${field}: ${res.text}`,
      );
    }
    check(
      typeof task.id === 'string' && Number.isInteger(task.version),
      `created task: ${res.text}`,
    );
    return {
      id: task.id,
      version: task.version,
      nextRunAt: task.nextRunAt,
      attempts,
    };
  });

  await step('token restrictions of the production config', async () => {
    expectStatus(
      await call('GET', `/api/lab-scheduler/tasks/${task.id}`, {
        token: EXECUTOR_TOKEN,
      }),
      200,
      'executor token reads a task',
    );
    expectStatus(
      await call('POST', '/api/lab-scheduler/tasks', {
        token: EXECUTOR_TOKEN,
        body: taskBody,
      }),
      403,
      'executor token creates a task',
    );
    expectStatus(
      await call(
        'GET',
        `/api/catalog/entities/by-name/resource/default/plate-reader-1`,
        {
          token: SCRIPTS_TOKEN,
        },
      ),
      403,
      'scripts token reads the catalog',
    );
  });

  await step('GET /api/lab-scheduler/tasks/:id', async () => {
    const res = await call('GET', `/api/lab-scheduler/tasks/${task.id}`, {
      token: SCRIPTS_TOKEN,
    });
    expectStatus(res, 200, 'read');
    check(
      JSON.stringify(res.json) === JSON.stringify(task),
      `read back differs from the created task: ${res.text}`,
    );
  });

  const listed = async () => {
    const res = await call(
      'GET',
      `/api/lab-scheduler/tasks?owner=${encodeURIComponent(OWNER)}`,
      { token: SCRIPTS_TOKEN },
    );
    expectStatus(res, 200, 'list');
    check(Array.isArray(res.json?.items), `list body: ${res.text}`);
    return res.json.items.map(t => t.id);
  };

  await step('GET /api/lab-scheduler/tasks lists it', async () => {
    const ids = await listed();
    check(ids.includes(task.id), `task ${task.id} not in the list: ${ids}`);
    return { listed: ids.length };
  });

  await step('DELETE /api/lab-scheduler/tasks/:id', async () => {
    const res = await call('DELETE', `/api/lab-scheduler/tasks/${task.id}`, {
      token: SCRIPTS_TOKEN,
      headers: { 'If-Match': `"${task.version}"` },
    });
    expectStatus(res, 204, 'delete');
    expectStatus(
      await call('GET', `/api/lab-scheduler/tasks/${task.id}`, {
        token: SCRIPTS_TOKEN,
      }),
      404,
      'read after delete',
    );
    check(
      !(await listed()).includes(task.id),
      `deleted task ${task.id} still listed`,
    );
  });

  await step('metrics exported over OTLP (instrumentation.js)', async () => {
    await waitFor(
      'an OTLP metrics export',
      30_000,
      async () =>
        collector.received.some(r => r === 'POST /v1/metrics') ||
        `received: ${JSON.stringify(collector.received)}`,
    );
  });

  await step('SIGTERM: graceful exit', async () => {
    const exit = await backend.stop('SIGTERM', { graceMs: 60_000 });
    check(
      exit.code === 0,
      `backend exit after SIGTERM: ${JSON.stringify(exit)}`,
    );
    return exit;
  });
}

async function cleanUp() {
  const begun = Date.now();
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      report({ step: 'cleanup', ok: false, error: error.message });
    }
  }
  cleanups.length = 0;
  report({ step: 'cleanup', ms: Date.now() - begun });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    report({ step: 'interrupted', signal });
    await cleanUp();
    process.exit(1);
  });
}

try {
  await main();
  report({ result: 'image boot check passed', totalMs: Date.now() - started });
} catch (error) {
  if (backend) {
    console.error(
      `--- last backend log lines (all: e2e-artifacts/rehearsal/boot-check.log)`,
    );
    console.error(backend.logs.slice(-40).join('\n'));
  }
  report({
    result: 'image boot check FAILED',
    totalMs: Date.now() - started,
    error: error.message,
  });
  process.exitCode = 1;
} finally {
  await cleanUp();
}
