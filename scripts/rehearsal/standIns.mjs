// Stand-ins for Engineer A's postgres.mjs and image.mjs, used only while those files are absent (run.mjs
// prefers theirs). Same signatures; the image stand-in runs the backend from the source tree, not an image.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const root = resolve(import.meta.dirname, '../..');

export function freePort() {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => res(port));
    });
  });
}

/** initdb refuses to run as root: the cluster is owned by the postgres user then. */
function asOwner(args) {
  return process.getuid?.() === 0
    ? ['runuser', ['-u', 'postgres', '--', ...args]]
    : [args[0], args.slice(1)];
}

function pg(args, options = {}) {
  const [cmd, rest] = asOwner(args);
  return execFileSync(cmd, rest, { stdio: 'pipe', ...options });
}

export async function startPrivatePostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'rehearsal-pg-'));
  if (process.getuid?.() === 0) chownSync(dir, 101, 104);
  const data = join(dir, 'data');
  const port = await freePort();
  pg([`${PG_BIN}/initdb`, '-D', data, '-U', 'postgres', '-A', 'trust']);
  const start = () =>
    pg([
      `${PG_BIN}/pg_ctl`,
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=300`,
      'start',
    ]);
  const stop = (mode = 'fast') =>
    pg([`${PG_BIN}/pg_ctl`, '-D', data, '-m', mode, '-w', 'stop']);
  start();
  return {
    port,
    host: '127.0.0.1',
    user: 'postgres',
    connectionString: `postgresql://postgres@127.0.0.1:${port}`,
    async start() {
      start();
    },
    async stop() {
      stop();
    },
    async restart() {
      stop();
      start();
    },
    async destroy() {
      try {
        stop('immediate');
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Stand-in: no image; the backend runs from the source tree through Backstage's transform. */
export async function prepareImage() {
  return root;
}

export async function startBackend({
  imageDir,
  name,
  port,
  env,
  configs = [],
  workDir = tmpdir(),
}) {
  const transform = createRequire(join(root, 'package.json')).resolve(
    '@backstage/cli/config/nodeTransform.cjs',
  );
  const overlay = join(mkdtempSync(join(workDir, `${name}-`)), 'port.yaml');
  writeFileSync(overlay, `backend:\n  listen:\n    port: ${port}\n`);
  const child = spawn(
    process.execPath,
    [
      '--require',
      transform,
      'packages/backend/src/index.ts',
      '--config',
      'app-config.production.yaml',
      '--config',
      overlay,
      ...configs.flatMap(c => ['--config', c]),
    ],
    {
      cwd: imageDir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return wrapBackend({ name, port, child });
}

export function wrapBackend({ name, port, child }) {
  const logs = [];
  const keep = chunk => {
    logs.push(String(chunk));
    if (logs.length > 2000) logs.splice(0, 1000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise(r =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  return {
    name,
    port,
    url,
    child,
    logs,
    exited,
    async waitHealthy(ms = 120_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`${name} exited: ${logs.join('').slice(-3000)}`);
        try {
          const res = await fetch(`${url}/.backstage/health/v1/readiness`);
          if (res.ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline)
          throw new Error(
            `${name} not healthy in ${ms} ms: ${logs.join('').slice(-3000)}`,
          );
        await new Promise(r => setTimeout(r, 250));
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null)
        child.kill(signal);
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null)
        child.kill('SIGKILL');
      return exited;
    },
  };
}
