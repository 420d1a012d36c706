/*
 * What the browser tests share: building the app once per run (one builder at a time), waiting for the
 * backend, and axe-core's serious and critical violations on a page.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  rmdirSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';

export const repo = resolve(__dirname, '../../../..');

export const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

export async function waitForHttp(
  url: string,
  init: RequestInit = {},
  timeoutMs = 120_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, init);
      if (res.ok) return res;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer in time`);
    await sleep(500);
  }
}

/** The newest modification time of any file under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    newest = Math.max(
      newest,
      stat.isDirectory() ? newestMtime(path) : stat.mtimeMs,
    );
  }
  return newest;
}

/**
 * Builds the app unless its dist is newer than every source of the app and the frontend plugin (another
 * browser test of the same run may have built it), one builder at a time: the lock directory is the one
 * the calendar browser test takes too, so parallel test files never write dist at once.
 */
export async function ensureAppBuilt() {
  const appDist = join(repo, 'packages/app/dist/index.html');
  const lock = join(tmpdir(), 'lab-scheduler-app-build.lock');
  const fresh = () =>
    existsSync(appDist) &&
    statSync(appDist).mtimeMs >
      Math.max(
        newestMtime(join(repo, 'packages/app/src')),
        newestMtime(join(repo, 'plugins/lab-scheduler/src')),
        newestMtime(join(repo, 'plugins/lab-scheduler-common/src')),
      );
  if (process.env.E2E_REBUILD === '0' && existsSync(appDist)) return;
  for (;;) {
    if (fresh()) return;
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock left by a killed run is stale: a build takes a few minutes at most.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 10 * 60_000) rmdirSync(lock);
      } catch {
        // Released meanwhile.
      }
      await sleep(1000);
    }
  }
  try {
    if (fresh()) return;
    execFileSync(
      process.execPath,
      [require.resolve('@backstage/cli/bin/backstage-cli'), 'package', 'build'],
      {
        cwd: join(repo, 'packages/app'),
        // Jest runs with NODE_ENV=test, which has no browserslist entry: build as production.
        env: { ...process.env, NODE_ENV: 'production' },
        stdio: 'pipe',
      },
    );
  } finally {
    rmdirSync(lock);
  }
}

/**
 * axe-core's serious and critical violations on the page (or inside `selector`), as "rule: target"
 * lines. The page's context needs `bypassCSP`: axe is injected as a script tag.
 */
export async function seriousViolations(
  page: Page,
  selector?: string,
): Promise<string[]> {
  if (!(await page.evaluate(() => Boolean((window as any).axe))))
    await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const violations: { id: string; impact: string; nodes: any[] }[] =
    await page.evaluate(async scope => {
      const result = await (window as any).axe.run(
        scope ? document.querySelector(scope) : document,
        { resultTypes: ['violations'] },
      );
      return result.violations;
    }, selector);
  return violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .flatMap(v =>
      v.nodes.map(n => `${v.id}: ${n.target.join(' ')} — ${n.failureSummary}`),
    );
}
