import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const WORKER = resolve(__dirname, 'dispatcherWorker.ts');
const TRANSFORM = require.resolve('@backstage/cli/config/nodeTransform.cjs');

export interface WorkerProcess {
  id: string;
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves when the worker printed `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export function startWorker(
  id: string,
  env: Record<string, string>,
): WorkerProcess {
  // WORKER_NODE_ARGS: extra node flags for profiling the workers (e.g. --cpu-prof).
  const nodeArgs = (process.env.WORKER_NODE_ARGS ?? '')
    .split(' ')
    .filter(Boolean);
  const child = spawn(
    process.execPath,
    [...nodeArgs, '--require', TRANSFORM, WORKER],
    {
      env: { ...process.env, ...env, INSTANCE_ID: id },
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: resolve(__dirname, '../..'),
    },
  );
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout!.on('data', c => stdout.push(String(c)));
  child.stderr!.on('data', c => stderr.push(String(c)));
  const exited = new Promise(r => child.once('exit', r));
  return {
    id,
    child,
    stdout,
    stderr,
    async waitFor(text, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!stdout.join('').includes(text)) {
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(
            `worker ${id} did not print ${text}: ${stdout.join('')}${stderr
              .join('')
              .slice(-2000)}`,
          );
        }
        await new Promise(r => setTimeout(r, 20));
      }
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
    async kill() {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
