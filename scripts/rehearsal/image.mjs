// The production image, replayed on the host (no Docker engine here): `prepareImage` does the steps of
// packages/backend/Dockerfile from the tarballs `npm run build:backend` made, and `startBackend` runs the
// image's CMD in the result. THIS FILE AND THE DOCKERFILE MIRROR EACH OTHER: change one, change the other.
//
//   Dockerfile                                              prepareImage({ workDir }) -> <workDir>/app
//   COPY package.json package-lock.json ./                  copy both from the repository root
//   COPY skeleton.tar.gz; tar xzf skeleton.tar.gz           tar xzf skeleton.tar.gz
//   npm ci --omit=dev --ignore-scripts=false …              the same command, from the npm cache / registry
//   COPY bundle.tar.gz; tar xzf bundle.tar.gz               tar xzf bundle.tar.gz
//   COPY app-config.production.yaml ./                      copy it
//   ENV NODE_ENV=production                                 startBackend's environment
//   CMD node --require ./packages/backend/instrumentation.js packages/backend --config app-config.production.yaml
//                                                           startBackend: the same arguments, on Node 22
//
// The container's environment is not the host's: the backend gets PATH, HOME, NODE_ENV and what the caller
// passes (the variables the k8s manifests set), nothing else. Its port comes from APP_CONFIG_backend_listen_port,
// Backstage's own override, since every process here shares one network (in k8s each pod has 7007).
import { execFile as execFileCallback, spawn } from 'node:child_process';
import {
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statfsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './postgres.mjs';

const execFile = promisify(execFileCallback);

export const repoRoot = resolve(import.meta.dirname, '../..');
const dist = join(repoRoot, 'packages/backend/dist');
const ARTIFACTS = join(repoRoot, 'e2e-artifacts/rehearsal');

/** The image's CMD after `node` (packages/backend/Dockerfile). */
export const IMAGE_COMMAND = [
  '--require',
  './packages/backend/instrumentation.js',
  'packages/backend',
  '--config',
  'app-config.production.yaml',
];

/**
 * A new temp folder for an image, in memory (/dev/shm) when it has room: the image's node_modules holds
 * ~46,000 files, and writing and deleting them on a busy disk took minutes here, in memory seconds.
 */
export function imageTempDir(prefix = 'lab-scheduler-image-') {
  const inMemory = '/dev/shm';
  try {
    const { bavail, bsize } = statfsSync(inMemory);
    if (bavail * bsize >= 4 * 1024 ** 3) {
      return mkdtempSync(join(inMemory, prefix));
    }
  } catch {
    // no /dev/shm here
  }
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The Dockerfile's CMD (exec form), to hold IMAGE_COMMAND to it. */
export function dockerfileCommand() {
  const dockerfile = readFileSync(
    join(repoRoot, 'packages/backend/Dockerfile'),
    'utf8',
  );
  const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(dockerfile);
  if (!cmd) throw new Error('packages/backend/Dockerfile has no exec-form CMD');
  return JSON.parse(cmd[1]);
}

/** npm on this Node (22), without the npm_* variables of the `npm run` that may have started us. */
function npmEnvironment() {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)),
  );
  env.PATH = `${dirname(process.execPath)}:${process.env.PATH}`;
  return env;
}

/**
 * Builds the image's /app folder in `<workDir>/app` from packages/backend/dist/{skeleton,bundle}.tar.gz.
 * @param {{ workDir: string, log?: (line: string) => void }} options
 * @returns {Promise<string>} the image folder
 */
export async function prepareImage({ workDir, log = () => {} }) {
  const skeleton = join(dist, 'skeleton.tar.gz');
  const bundle = join(dist, 'bundle.tar.gz');
  for (const file of [skeleton, bundle]) {
    if (!existsSync(file)) {
      throw new Error(
        `${file} is missing: run \`npm run build:backend\` first (it makes the image's tarballs)`,
      );
    }
  }
  const imageDir = join(workDir, 'app');
  rmSync(imageDir, { recursive: true, force: true });
  mkdirSync(imageDir, { recursive: true });
  const step = async (name, fn) => {
    const started = Date.now();
    try {
      await fn();
    } catch (error) {
      throw new Error(
        `image step "${name}" failed: ${error.stderr || error.message}`,
      );
    }
    log(`${name} (${Date.now() - started} ms)`);
  };

  await step('COPY package.json package-lock.json', async () => {
    for (const file of ['package.json', 'package-lock.json']) {
      copyFileSync(join(repoRoot, file), join(imageDir, file));
    }
  });
  await step('tar xzf skeleton.tar.gz', () =>
    execFile('tar', ['xzf', skeleton], { cwd: imageDir }),
  );
  // --prefer-offline: the host's npm cache holds every package already (CI ran `npm ci`); the image
  // build has its own cache mount instead.
  await step('npm ci --omit=dev', () =>
    execFile(
      'npm',
      [
        'ci',
        '--omit=dev',
        '--ignore-scripts=false',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
      ],
      {
        cwd: imageDir,
        env: npmEnvironment(),
        maxBuffer: 64 * 1024 * 1024,
        timeout: 600_000,
      },
    ),
  );
  await step('tar xzf bundle.tar.gz', () =>
    execFile('tar', ['xzf', bundle], { cwd: imageDir }),
  );
  await step('COPY app-config.production.yaml', async () => {
    copyFileSync(
      join(repoRoot, 'app-config.production.yaml'),
      join(imageDir, 'app-config.production.yaml'),
    );
  });
  return imageDir;
}

const started = new Set();
// Backends must not outlive the script that started them, however it ends.
process.once('exit', () => {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
  }
});

/**
 * Runs the image's CMD in `imageDir` with the given environment (and extra `--config` files after the
 * image's own, as a Deployment's `args` would add them).
 * @param {{ imageDir: string, name: string, port?: number, env?: Record<string, string>,
 *           configs?: string[] }} options
 */
export async function startBackend({
  imageDir,
  name,
  port,
  env = {},
  configs = [],
}) {
  const listenPort = port ?? (await freePort());
  mkdirSync(ARTIFACTS, { recursive: true });
  const logFile = createWriteStream(join(ARTIFACTS, `${name}.log`), {
    flags: 'a',
  });
  logFile.write(`--- ${name} started ${new Date().toISOString()}\n`);
  const child = spawn(
    process.execPath,
    [...IMAGE_COMMAND, ...configs.flatMap(c => ['--config', c])],
    {
      cwd: imageDir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'production',
        ...env,
        APP_CONFIG_backend_listen_port: String(listenPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  started.add(child);

  const logs = [];
  const capture = stream => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', chunk => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      // The backend's JSON lines carry no time: stamp them as they arrive, to line them up with the
      // harness's figures (SentTimestamp, phase events).
      const at = new Date().toISOString();
      if (!logFile.writableEnded)
        for (const line of lines) logFile.write(`${at} ${line}\n`);
      logs.push(...lines);
      // A long rehearsal logs a lot: keep the recent half (the file has everything).
      if (logs.length > 50_000) logs.splice(0, 25_000);
    });
    stream.on('end', () => {
      if (!partial) return;
      if (!logFile.writableEnded)
        logFile.write(`${new Date().toISOString()} ${partial}\n`);
      logs.push(partial);
    });
  };
  capture(child.stdout);
  capture(child.stderr);

  const exited = new Promise(resolve => {
    child.once('exit', (code, signal) => {
      started.delete(child);
      logFile.end(`--- ${name} exited: code ${code}, signal ${signal}\n`);
      resolve({ code, signal });
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const url = `http://127.0.0.1:${listenPort}`;
  const tail = () => logs.slice(-40).join('\n');

  return {
    name,
    port: listenPort,
    url,
    child,
    logs,
    exited,
    /** Waits for the readiness probe the k8s Deployments use to answer 200. */
    async waitHealthy(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (!running()) {
          throw new Error(
            `${name} exited before it was ready (${
              child.exitCode ?? child.signalCode
            }):\n${tail()}`,
          );
        }
        try {
          const res = await fetch(`${url}/.backstage/health/v1/readiness`, {
            signal: AbortSignal.timeout(5_000),
          });
          await res.arrayBuffer();
          if (res.ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) {
          throw new Error(
            `${name} was not ready within ${timeoutMs} ms:\n${tail()}`,
          );
        }
        await new Promise(r => setTimeout(r, 250));
      }
    },
    /** Sends `signal` and waits for the exit; SIGKILL after `graceMs`, like k8s after its grace period. */
    async stop(signal = 'SIGTERM', { graceMs = 60_000 } = {}) {
      if (running()) child.kill(signal);
      const timer = setTimeout(() => {
        if (running()) child.kill('SIGKILL');
      }, graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      return exited;
    },
  };
}
