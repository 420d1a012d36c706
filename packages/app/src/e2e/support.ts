/*
 * What the browser tests share, so that every *.browser.test.ts starts the same way:
 *
 *   let portal: Portal;
 *   beforeAll(async () => {
 *     portal = await startPortal({ name: 'calendar', port: 7019 });
 *   }, PORTAL_STARTUP_TIMEOUT_MS);
 *   afterAll(() => portal?.stop());
 *
 * startPortal builds the app once per run (one builder at a time), starts the backend on its own port with a
 * fresh SQLite database (the embedded defaults: the example catalog, simulated instruments, the guest user
 * Ada of group lab-ops), waits until the catalog has the example instruments and groups, and launches
 * Chromium. portal.newPage() gives a page in a new browser context (zone, locale, viewport) whose errors and
 * non-GET responses go into the failure report of portal.withLogs(); axe-core through seriousViolations().
 * Each test file takes its own port: jest runs the files in parallel.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
// Only the browser tests import this file: a dev dependency, though the linter takes it for app code.
// eslint-disable-next-line @backstage/no-undeclared-imports
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';

export const repo = resolve(__dirname, '../../../..');

/** Screenshots and backend logs of the browser tests (git-ignored). */
export const artifacts = join(repo, 'e2e-artifacts');

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The embedded default config's development-only static token (README): scripts' access to the API. */
export const DEV_TOKEN = 'lab-scheduler-dev-token-change-me';

/** For the beforeAll that calls startPortal: building the app and ingesting the catalog take minutes on a busy machine. */
export const PORTAL_STARTUP_TIMEOUT_MS = 900_000;

const isCI = ['1', 'true'].includes(String(process.env.CI).toLowerCase());
if (!existsSync(CHROMIUM) && isCI) {
  throw new Error(
    `Chromium not found at ${CHROMIUM}; .ci/run installs it (apt-get install chromium)`,
  );
}

/** `describe` where Chromium is installed; skipped locally without it (CI fails above instead). */
export const describeIfBrowser: jest.Describe = existsSync(CHROMIUM)
  ? describe
  : describe.skip;

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

/**
 * The newest modification time of any file under `dir` that goes into the app's bundle: tests (and the
 * browser tests' folder) do not, and editing one must not cost a rebuild of the app.
 */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    if (name === 'e2e' || /\.test\.tsx?$/.test(name)) continue;
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
 * Builds the app unless its dist is newer than every source of the app and the frontend plugins (another
 * browser test of the same run may have built it), one builder at a time: a lock directory, so parallel
 * test files never write dist at once. `E2E_REBUILD=0` uses an existing dist as it is.
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
 * lines. Pages of portal.newPage() bypass the Content-Security-Policy, which would refuse axe's script tag.
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

export interface PortalOptions {
  /** Names the temporary data directory and the log file e2e-artifacts/<name>-backend.log. */
  name: string;
  /** The backend's (and the app's) port; one per test file. */
  port: number;
  /**
   * Merged into labScheduler.execution, e.g. `{ simulated: { delay: '100ms' } }` (a string, so that it
   * replaces app-config.yaml's rather than merging with it).
   */
  execution?: Record<string, unknown>;
}

export interface PageOptions {
  /** Default 1440×1000. */
  viewport?: { width: number; height: number };
  /** The browser's time zone; default Europe/Berlin. */
  timezoneId?: string;
  /** Default en-US. */
  locale?: string;
}

export interface Portal {
  /** http://localhost:<port> */
  readonly base: string;
  /** The Lab Scheduler API: <base>/api/lab-scheduler */
  readonly api: string;
  readonly browser: Browser;
  /** The backend's output so far. */
  log(): string;
  /**
   * Calls the Lab Scheduler API with the static token (`path` below /api/lab-scheduler); the parsed JSON
   * answer (undefined for 204). Throws with the status and body unless the answer is 2xx.
   */
  request(method: string, path: string, body?: unknown): Promise<any>;
  /** A page in a new browser context, not signed in yet. */
  newPage(options?: PageOptions): Promise<Page>;
  /** Opens `path` (e.g. '/lab-scheduler') and signs in as the guest unless the context already has. */
  signIn(page: Page, path: string): Promise<void>;
  /** A full-page screenshot at e2e-artifacts/<fileName>.png. */
  screenshot(page: Page, fileName: string): Promise<void>;
  /**
   * Runs `fn`; if it throws, saves a screenshot `failurePrefix`-failure-<time>.png of `page` and throws
   * the error again with the browser's errors and the backend's log tail.
   */
  withLogs<T>(
    page: Page | undefined,
    failurePrefix: string,
    fn: () => Promise<T>,
  ): Promise<T>;
  /** Closes Chromium, stops the backend and writes its log. */
  stop(): Promise<void>;
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** What the tests rely on from the example catalog (examples/*.yaml). */
const EXAMPLE_ENTITIES = [
  'resource/default/plate-reader-1',
  'resource/default/uv-vis-1',
  'resource/default/ph-meter-1',
  'resource/default/qpcr-1',
  'resource/default/balance-1',
  'group/default/lab-ops',
  'user/default/ada',
];

async function stopProcess(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise(r => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
  if (child.exitCode === null && child.signalCode === null)
    child.kill('SIGKILL');
}

/** Starts the portal for one test file (see the top of this file). */
export async function startPortal(options: PortalOptions): Promise<Portal> {
  const base = `http://localhost:${options.port}`;
  const api = `${base}/api/lab-scheduler`;
  const logFile = join(artifacts, `${options.name}-backend.log`);
  mkdirSync(artifacts, { recursive: true });
  await ensureAppBuilt();

  const data = mkdtempSync(join(tmpdir(), `${options.name}-e2e-`));
  const override = join(data, 'app-config.e2e.yaml');
  writeFileSync(
    override,
    JSON.stringify({
      app: {
        baseUrl: base,
        // The app this checkout built: by name, app-backend would resolve `app` from where @backstage's
        // packages really lie, which is another checkout's app when node_modules is shared (a worktree).
        packageName: pathToFileURL(join(repo, 'packages/app/package.json'))
          .href,
      },
      backend: {
        baseUrl: base,
        listen: { port: options.port },
        cors: { origin: base },
        database: {
          client: 'better-sqlite3',
          connection: { directory: join(data, 'sqlite') },
        },
      },
      labScheduler: {
        execution: {
          rawDataDirectory: join(data, 'raw'),
          ...options.execution,
        },
      },
    }),
  );
  let log = '';
  const backend = spawn(
    process.execPath,
    [
      '--require',
      require.resolve('@backstage/cli/config/nodeTransform.cjs'),
      'src/index.ts',
      '--config',
      '../../app-config.yaml',
      '--config',
      override,
    ],
    {
      cwd: join(repo, 'packages/backend'),
      env: { ...process.env, NODE_ENV: 'development' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  backend.stdout!.on('data', c => (log += c));
  backend.stderr!.on('data', c => (log += c));

  let browser: Browser | undefined;
  try {
    await waitForHttp(`${api}/health`);
    // The static token is confined to the Lab Scheduler (accessRestrictions): look at the catalog as the
    // guest user the portal signs in.
    const guest = await waitForHttp(`${base}/api/auth/guest/refresh`, {
      headers: { 'X-Requested-With': 'XMLHttpRequest' },
    });
    const userToken = (await guest.json()).backstageIdentity.token;
    for (const entity of EXAMPLE_ENTITIES) {
      await waitForHttp(
        `${base}/api/catalog/entities/by-name/${entity}`,
        { headers: { Authorization: `Bearer ${userToken}` } },
        // The first catalog processing round takes minutes on a loaded 2-core machine.
        420_000,
      );
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
    });
  } catch (error) {
    await stopProcess(backend);
    writeFileSync(logFile, log);
    throw new Error(
      `${error}\n--- backend log (tail; all of it in ${logFile}) ---\n${log.slice(
        -4000,
      )}`,
    );
  }

  const contexts: BrowserContext[] = [];
  let browserLog = '';

  const screenshot = async (page: Page, fileName: string) => {
    await page.screenshot({
      path: join(artifacts, `${fileName}.png`),
      fullPage: true,
    });
  };

  return {
    base,
    api,
    browser,
    log: () => log,

    async request(method, path, body) {
      const res = await fetch(`${api}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${DEV_TOKEN}`,
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      if (!res.ok)
        throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.status === 204 ? undefined : res.json();
    },

    async newPage(pageOptions = {}) {
      const context = await browser!.newContext({
        timezoneId: pageOptions.timezoneId ?? 'Europe/Berlin',
        locale: pageOptions.locale ?? 'en-US',
        viewport: pageOptions.viewport ?? { width: 1440, height: 1000 },
        // axe-core is injected as a script tag, which the portal's Content-Security-Policy would refuse.
        bypassCSP: true,
      });
      contexts.push(context);
      const page = await context.newPage();
      // The browser's own errors go into the failure report with the backend's log.
      page.on('pageerror', e => (browserLog += `\n[page error] ${e.message}`));
      page.on('console', m => {
        if (m.type() === 'error') browserLog += `\n[console] ${m.text()}`;
      });
      page.on('response', r => {
        if (r.request().method() !== 'GET')
          browserLog += `\n[response] ${r
            .request()
            .method()} ${r.url()} ${r.status()}`;
      });
      page.on('requestfailed', r => {
        browserLog += `\n[request failed] ${r.method()} ${r.url()} ${
          r.failure()?.errorText
        }`;
      });
      return page;
    },

    async signIn(page, path) {
      await page.goto(`${base}${path}`);
      // The sign-in page is `auto`: it comes back only in a context that has not signed in yet.
      const remembered = await page.evaluate(() =>
        window.localStorage.getItem('@backstage/core:SignInPage:provider'),
      );
      if (remembered) return;
      const enter = page.getByRole('button', { name: 'Enter' });
      await enter.waitFor({ timeout: 60_000 });
      await enter.click();
    },

    screenshot,

    async withLogs(page, failurePrefix, fn) {
      try {
        return await fn();
      } catch (error) {
        if (page)
          await screenshot(
            page,
            `${failurePrefix}-failure-${Date.now()}`,
          ).catch(() => {});
        throw new Error(
          `${error}\n--- browser ---${browserLog.slice(
            -4000,
          )}\n--- backend log (tail) ---\n${log.slice(-4000)}`,
        );
      }
    },

    async stop() {
      for (const context of contexts) await context.close().catch(() => {});
      await browser?.close().catch(() => {});
      await stopProcess(backend);
      writeFileSync(logFile, log);
    },
  };
}
