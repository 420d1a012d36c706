// Boots the production topology from the built artefacts: private PostgreSQL, fauxqs (SQS + S3) with the stack's
// queues, the instrument gateway, API and scheduler processes from the image with the k8s environment, the load
// balancer, and the built Lambda behind the event-source-mapping harness.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { startGateway } from './gateway.mjs';
import { startLambdaHarness } from './lambdaHarness.mjs';
import { startLoadBalancer } from './loadBalancer.mjs';
import {
  createBucket,
  createQueues,
  EMULATOR_CREDENTIALS,
  startSqs,
} from './sqs.mjs';
import { freePort } from './standIns.mjs';
import { synthesizeStack } from './template.mjs';

export const root = resolve(import.meta.dirname, '../..');
const YAML = createRequire(join(root, 'package.json'))('yaml');
export const INSTRUMENT_COUNT = 10;
export const instrumentRef = i =>
  `resource:default/rehearsal-balance-${i % INSTRUMENT_COUNT}`;
const RAW_DATA_BUCKET = 'lab-scheduler-raw-data';

/** Engineer A's modules when they have landed, the local stand-ins otherwise. */
async function imageAndPostgres() {
  const standIns = await import('./standIns.mjs');
  const postgres = existsSync(join(import.meta.dirname, 'postgres.mjs'))
    ? await import('./postgres.mjs')
    : standIns;
  const image = existsSync(join(import.meta.dirname, 'image.mjs'))
    ? await import('./image.mjs')
    : standIns;
  return {
    startPrivatePostgres: postgres.startPrivatePostgres,
    prepareImage: image.prepareImage,
    startBackend: image.startBackend,
    standIn: { postgres: postgres === standIns, image: image === standIns },
  };
}

function writeInstrumentCatalog(dir) {
  const entities = Array.from({ length: INSTRUMENT_COUNT }, (_, i) =>
    [
      'apiVersion: backstage.io/v1alpha1',
      'kind: Resource',
      'metadata:',
      `  name: rehearsal-balance-${i}`,
      '  annotations:',
      "    lab-scheduler.io/measurement-types: 'mass-reading'",
      // Capacity well above the load: the instrument guard is not what the rehearsal exercises.
      "    lab-scheduler.io/capacity: '1000'",
      'spec:',
      '  type: instrument',
      '  owner: group:default/lab-ops',
    ].join('\n'),
  );
  // The tasks' owner: the API checks that it exists in the catalog.
  entities.push(
    [
      'apiVersion: backstage.io/v1alpha1',
      'kind: Group',
      'metadata:',
      '  name: lab-ops',
      'spec:',
      '  type: team',
      '  children: []',
    ].join('\n'),
  );
  const file = join(dir, 'instruments.yaml');
  writeFileSync(file, `${entities.join('\n---\n')}\n`);
  return file;
}

/**
 * Time compression: the stack's visibility timeout (6 x the function timeout, 30 min) and the backend's run
 * timeout (15 min) are divided by `timeScale` so that a lost Lambda invocation is redelivered, and its run
 * restarted, inside the rehearsal's budget. Their ratio is kept; every other number (function timeout, lease,
 * batch size, concurrency, maxReceiveCount) is production's.
 */
export async function bootTopology({ workDir, timeScale, log, cleanups }) {
  const modules = await imageAndPostgres();
  log('artefacts', { standIn: modules.standIn });

  const stack = synthesizeStack(root);
  const visibilityTimeoutSeconds = Math.ceil(
    stack.queue.visibilityTimeoutSeconds / timeScale,
  );
  // Not compressed: it bounds one invocation (a batch of measurements under load).
  const functionTimeoutSeconds = stack.function.timeoutSeconds;
  // The production config leaves execution.runTimeout at its default (900 s = half the visibility timeout).
  const runTimeoutSeconds = Math.ceil(900 / timeScale);
  log('stack', {
    ...stack,
    timeScale,
    visibilityTimeoutSeconds,
    functionTimeoutSeconds,
    runTimeoutSeconds,
  });

  execFileSync('npm', ['run', 'build', '--workspace', 'lambda'], {
    cwd: root,
    stdio: 'pipe',
  });
  const taskDir = join(workDir, 'lambda-task');
  mkdirSync(taskDir);
  execFileSync('unzip', [
    '-q',
    join(root, 'lambda/dist/lambda.zip'),
    '-d',
    taskDir,
  ]);

  const postgres = await modules.startPrivatePostgres();
  cleanups.push(() => postgres.destroy());
  log('postgres', { port: postgres.port });

  const sqs = await startSqs({ workDir });
  cleanups.push(() => sqs.destroy());
  const { queueUrl, queueArn, dlqUrl } = await createQueues(sqs, {
    stack,
    visibilityTimeoutSeconds,
  });
  await createBucket(sqs, RAW_DATA_BUCKET);
  log('sqs', { endpoint: sqs.endpoint, queueUrl, dlqUrl });

  const gateway = await startGateway();
  cleanups.push(() => gateway.close());

  // REHEARSAL_IMAGE_DIR: an image folder prepared before (development: saves the npm ci of every run).
  const prepared = process.env.REHEARSAL_IMAGE_DIR;
  const tarballs = ['skeleton', 'bundle'].map(t =>
    join(root, `packages/backend/dist/${t}.tar.gz`),
  );
  if (
    !prepared &&
    !modules.standIn.image &&
    (process.env.REHEARSAL_REBUILD === '1' || !tarballs.every(existsSync))
  ) {
    const t0 = Date.now();
    execFileSync('npm', ['run', 'build:backend'], { cwd: root, stdio: 'pipe' });
    log('build-backend', { ms: Date.now() - t0 });
  }
  const imageDir =
    prepared ??
    (await modules.prepareImage({
      workDir,
      log: line => log('image-step', { line }),
    }));
  log('image', { imageDir });

  // Production's externalAccess plus the scripts token it documents (commented out there): config arrays
  // replace rather than merge, so the overlay repeats production's entries, read from the file.
  const accessOverlay = join(workDir, 'app-config.rehearsal-access.yaml');
  const production = YAML.parse(
    readFileSync(join(imageDir, 'app-config.production.yaml'), 'utf8'),
  );
  writeFileSync(
    accessOverlay,
    `# REHEARSAL ONLY: a scripts token for the rehearsal's own API calls.\n${YAML.stringify(
      {
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
              },
            ],
          },
        },
      },
    )}`,
  );
  const emulatorOverlay = join(workDir, 'app-config.emulator.yaml');
  writeFileSync(
    emulatorOverlay,
    [
      '# EMULATOR ONLY (production rehearsal): production reaches real SQS without an endpoint key; the AWS SDK',
      '# needs an explicit endpoint for fauxqs.',
      'labScheduler:',
      '  queue:',
      '    sqs:',
      `      endpoint: ${sqs.endpoint}`,
      '',
    ].join('\n'),
  );
  const rehearsalOverlay = join(workDir, 'app-config.rehearsal.yaml');
  writeFileSync(
    rehearsalOverlay,
    [
      '# REHEARSAL ONLY: instrument entities registered the way an operator would (a catalog location) and the',
      '# time-compressed run timeout (see topology.mjs).',
      'catalog:',
      '  locations:',
      '    - type: file',
      `      target: ${writeInstrumentCatalog(workDir)}`,
      '      rules:',
      '        - allow: [Resource, Group]',
      // The stand-in PostgreSQL has no TLS; Engineer A's has, with its own CA (POSTGRES_CA_BUNDLE).
      ...(postgres.backendEnv
        ? []
        : ['backend:', '  database:', '    connection:', '      ssl: false']),
      'labScheduler:',
      '  execution:',
      `    runTimeout: ${runTimeoutSeconds}s`,
      // The instruments the Lambda has a gateway for (INSTRUMENT_GATEWAYS below): tasks on others are refused.
      '    instruments:',
      ...Array.from(
        { length: INSTRUMENT_COUNT },
        (_, i) =>
          `      - { instrumentRef: '${instrumentRef(i)}', driver: http }`,
      ),
      '',
    ].join('\n'),
  );

  const serviceToken = randomBytes(24).toString('hex');
  const scriptsToken = randomBytes(24).toString('hex');
  const commonEnv = {
    NODE_ENV: 'production',
    NODE_OPTIONS: '--max-old-space-size=768',
    // lab-scheduler-env (k8s/overlays/prod), pointed at this machine's services
    APP_BASE_URL: 'http://127.0.0.1',
    ORGANIZATION_NAME: 'Rehearsal Lab',
    LAB_SCHEDULER_QUEUE_URL: queueUrl,
    ...EMULATOR_CREDENTIALS,
    // lab-scheduler-secrets, and the POSTGRES_* of both
    ...(postgres.backendEnv?.() ?? {
      POSTGRES_HOST: postgres.host,
      POSTGRES_PORT: String(postgres.port),
      POSTGRES_USER: postgres.user,
      POSTGRES_PASSWORD: 'unused-trust-auth',
      POSTGRES_CA_BUNDLE: '',
    }),
    LAB_SCHEDULER_SERVICE_TOKEN: serviceToken,
    LAB_SCHEDULER_SCRIPTS_TOKEN: scriptsToken,
  };
  const backends = new Map();
  async function startProcess(name, dispatcher) {
    const port = backends.get(name)?.port ?? (await freePort());
    const backend = await modules.startBackend({
      imageDir,
      name,
      port,
      workDir,
      configs: [emulatorOverlay, rehearsalOverlay, accessOverlay],
      env: {
        ...commonEnv,
        BACKEND_BASE_URL: `http://127.0.0.1:${port}`,
        LAB_SCHEDULER_DISPATCHER_ENABLED: String(dispatcher),
        OTEL_SERVICE_NAME: dispatcher
          ? 'lab-scheduler-scheduler'
          : 'lab-scheduler-api',
      },
    });
    backends.set(name, backend);
    return backend;
  }
  cleanups.push(() => Promise.all([...backends.values()].map(b => b.kill())));

  // One process migrates first; the others then find the schema in place.
  const first = await startProcess('scheduler-1', true);
  await first.waitHealthy(180_000);
  await Promise.all(
    [
      ['scheduler-2', true],
      ['api-1', false],
      ['api-2', false],
    ].map(async ([name, dispatcher]) =>
      (await startProcess(name, dispatcher)).waitHealthy(180_000),
    ),
  );
  log(
    'backends',
    Object.fromEntries(
      [...backends].map(([n, b]) => [n, { port: b.port, pid: b.child.pid }]),
    ),
  );

  const loadBalancer = await startLoadBalancer();
  cleanups.push(() => loadBalancer.close());
  for (const name of ['api-1', 'api-2'])
    loadBalancer.addTarget(name, backends.get(name).port);
  await Promise.all(['api-1', 'api-2'].map(n => loadBalancer.waitHealthy(n)));

  // The rehearsal's own calls (tasks, catalog) use a scripts token: the executor's token is restricted.
  const api = createApiClient(`${loadBalancer.url}/api`, scriptsToken);
  await api.waitForInstruments();

  const lambdaEnv = {
    PATH: process.env.PATH,
    ...stack.function.environment,
    ...EMULATOR_CREDENTIALS,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_ENDPOINT_URL_S3: sqs.endpoint,
    LAB_SCHEDULER_API_URL: `${loadBalancer.url}/api/lab-scheduler`,
    LAB_SCHEDULER_SERVICE_TOKEN: serviceToken,
    RAW_DATA_BUCKET,
    QUEUE_URL: queueUrl,
    MAX_RECEIVE_COUNT: String(stack.queue.maxReceiveCount),
    RETRY_MAX_SECONDS: String(Math.min(900, visibilityTimeoutSeconds)),
    INSTRUMENT_GATEWAYS: JSON.stringify(
      Array.from({ length: INSTRUMENT_COUNT }, (_, i) => ({
        instrumentRef: instrumentRef(i),
        endpoint: gateway.url,
      })),
    ),
  };
  rmSync(join(root, 'e2e-artifacts/rehearsal/lambda'), {
    recursive: true,
    force: true,
  });
  const harness = startLambdaHarness({
    sqs,
    queueUrl,
    queueArn,
    taskDir,
    handler: stack.function.handler,
    env: lambdaEnv,
    batchSize: stack.eventSource.batchSize,
    batchingWindowSeconds: stack.eventSource.maximumBatchingWindowSeconds,
    maxConcurrency: stack.eventSource.maximumConcurrency,
    timeoutSeconds: functionTimeoutSeconds,
    logDir: join(root, 'e2e-artifacts/rehearsal/lambda'),
  });
  cleanups.push(() => harness.stop());

  return {
    stack,
    timing: {
      timeScale,
      visibilityTimeoutSeconds,
      functionTimeoutSeconds,
      runTimeoutSeconds,
      leaseMs: 30_000,
    },
    postgres,
    sqs,
    queueUrl,
    dlqUrl,
    gateway,
    backends,
    startProcess,
    loadBalancer,
    api,
    harness,
  };
}

export function createApiClient(baseUrl, token) {
  const headers = {
    Authorization: `Bearer ${token}`,
    'Content-Type': 'application/json',
  };
  const call = async (method, path, body) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    call,
    async waitForInstruments(ms = 120_000) {
      const deadline = Date.now() + ms;
      const refs = [
        'group/default/lab-ops',
        ...Array.from({ length: INSTRUMENT_COUNT }, (_, i) =>
          instrumentRef(i).replace(':', '/'),
        ),
      ];
      for (let i = 0; i < refs.length; ) {
        const res = await call(
          'GET',
          `/catalog/entities/by-name/${refs[i]}`,
        ).catch(() => ({ status: 0 }));
        if (res.status === 200) i++;
        else if (Date.now() > deadline)
          throw new Error(`${refs[i]} not in the catalog after ${ms} ms`);
        else await new Promise(r => setTimeout(r, 500));
      }
    },
    /** A one-time task through the API, as a user of the portal would create it. */
    createTask({ name, at, index }) {
      return call('POST', '/lab-scheduler/tasks', {
        name,
        instrumentRef: instrumentRef(index),
        owner: 'group:default/lab-ops',
        measurement: {
          type: 'mass-reading',
          parameters: { replicates: 3, unit: 'g' },
        },
        schedule: { type: 'once', at: new Date(at).toISOString() },
        policies: { overlap: 'allow' },
      });
    },
  };
}
