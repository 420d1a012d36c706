/**
 * @jest-environment node
 */
/*
 * The instrument calendar and the clash warning in real Chromium (Debian's, driven by playwright-core), on
 * the portal's embedded defaults: a daily 08:30 Europe/Berlin run stays at 08:30 on the calendar across the
 * spring-forward night for a viewer in Berlin, and moves from 03:30 to 02:30 for a viewer in New York (the
 * browser's zone set through playwright's `timezoneId`); axe-core finds no serious or critical violation on
 * the calendar (desktop and phone); the instrument's catalog page has the calendar tab. The clash panel of
 * the task form is tested in jsdom (ClashWarnings.form.test.tsx) and its server side in calendar.test.ts.
 * Screenshots go to e2e-artifacts/calendar-*.png (git-ignored).
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
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';

jest.setTimeout(300_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const isCI = ['1', 'true'].includes(String(process.env.CI).toLowerCase());
const repo = resolve(__dirname, '../../../..');
const artifacts = join(repo, 'e2e-artifacts');
const PORT = 7019;
const BASE = `http://localhost:${PORT}`;
const API = `${BASE}/api/lab-scheduler`;
/** The development-only static token of app-config.yaml (scripts' access to the Lab Scheduler API). */
const TOKEN = 'lab-scheduler-dev-token-change-me';
const PLATE_READER = 'resource:default/plate-reader-1';

if (!existsSync(CHROMIUM) && isCI) {
  throw new Error(
    `Chromium not found at ${CHROMIUM}; .ci/run installs it (apt-get install chromium)`,
  );
}
const describeIfBrowser = existsSync(CHROMIUM) ? describe : describe.skip;

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function waitForHttp(
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
 * browser test of the same run may have built it), one builder at a time (a lock directory).
 */
async function ensureAppBuilt() {
  const appDist = join(repo, 'packages/app/dist/index.html');
  const lock = join(tmpdir(), 'lab-scheduler-app-build.lock');
  const fresh = () =>
    existsSync(appDist) &&
    statSync(appDist).mtimeMs >
      Math.max(
        newestMtime(join(repo, 'packages/app/src')),
        newestMtime(join(repo, 'plugins/lab-scheduler/src')),
      );
  if (process.env.E2E_REBUILD === '0' && existsSync(appDist)) return;
  for (;;) {
    if (fresh()) return;
    try {
      mkdirSync(lock);
      break;
    } catch {
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

/** The last Sunday of March (Europe's spring-forward day) at least a week ahead, as yyyy-mm-dd. */
function nextSpringForward(): string {
  for (let year = new Date().getUTCFullYear(); ; year++) {
    const lastOfMarch = new Date(Date.UTC(year, 2, 31));
    const sunday = new Date(Date.UTC(year, 2, 31 - lastOfMarch.getUTCDay()));
    if (sunday.getTime() > Date.now() + 7 * 86_400_000)
      return sunday.toISOString().slice(0, 10);
  }
}

async function createTask(body: object) {
  const res = await fetch(`${API}/tasks`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${TOKEN}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({
      owner: 'user:default/ada',
      instrumentRef: PLATE_READER,
      measurement: { type: 'absorbance-spectrum', parameters: {} },
      ...body,
    }),
  });
  if (res.status !== 201)
    throw new Error(`create task: ${res.status} ${await res.text()}`);
  return res.json();
}

/** axe-core's serious and critical violations on the page, as "rule: target" lines. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const violations: { id: string; impact: string; nodes: any[] }[] =
    await page.evaluate(async () => {
      const result = await (window as any).axe.run(document, {
        resultTypes: ['violations'],
      });
      return result.violations;
    });
  return violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .flatMap(v => v.nodes.map(n => `${v.id}: ${n.target.join(' ')}`));
}

describeIfBrowser('the instrument calendar in Chromium', () => {
  let backend: ChildProcess;
  let browser: Browser;
  let log = '';
  const contexts: BrowserContext[] = [];

  async function openPage(
    timezoneId: string,
    viewport = { width: 1440, height: 1000 },
  ): Promise<Page> {
    const context = await browser.newContext({
      timezoneId,
      locale: 'en-GB',
      viewport,
      // axe-core is injected as a script tag, which the portal's Content-Security-Policy would refuse.
      bypassCSP: true,
    });
    contexts.push(context);
    return context.newPage();
  }

  async function signIn(page: Page, path: string) {
    await page.goto(`${BASE}${path}`);
    const enter = page.getByRole('button', { name: 'Enter' });
    if (await enter.isVisible({ timeout: 15_000 }).catch(() => false))
      await enter.click();
  }

  const shot = (page: Page, name: string) =>
    page.screenshot({
      path: join(artifacts, `calendar-${name}.png`),
      fullPage: true,
    });

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    await ensureAppBuilt();
    const data = mkdtempSync(join(tmpdir(), 'calendar-e2e-'));
    const override = join(data, 'app-config.e2e.yaml');
    writeFileSync(
      override,
      JSON.stringify({
        app: { baseUrl: BASE },
        backend: {
          baseUrl: BASE,
          listen: { port: PORT },
          cors: { origin: BASE },
          database: {
            client: 'better-sqlite3',
            connection: { directory: join(data, 'sqlite') },
          },
        },
        labScheduler: { execution: { rawDataDirectory: join(data, 'raw') } },
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
    await waitForHttp(`${API}/health`);
    const guest = await waitForHttp(`${BASE}/api/auth/guest/refresh`, {
      headers: { 'X-Requested-With': 'XMLHttpRequest' },
    });
    const userToken = (await guest.json()).backstageIdentity.token;
    await waitForHttp(
      `${BASE}/api/catalog/entities/by-name/resource/default/plate-reader-1`,
      { headers: { Authorization: `Bearer ${userToken}` } },
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    // The app build takes minutes on a loaded machine.
  }, 600_000);

  afterAll(async () => {
    writeFileSync(join(artifacts, 'calendar-backend.log'), log);
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    if (backend && backend.exitCode === null) {
      const exited = new Promise(r => backend.once('exit', r));
      backend.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (backend.exitCode === null) backend.kill('SIGKILL');
    }
  });

  /** Fails with the backend's log tail, after a screenshot of the page. */
  async function withLog(page: Page | undefined, fn: () => Promise<void>) {
    try {
      await fn();
    } catch (error) {
      if (page) await shot(page, 'failure').catch(() => {});
      throw new Error(
        `${error}\n--- backend log (tail) ---\n${log.slice(-4000)}`,
      );
    }
  }

  it('draws a run at the same local time across the spring-forward night, and at the viewer’s own local time elsewhere', async () => {
    const sunday = nextSpringForward();
    const saturday = new Date(Date.parse(sunday) - 86_400_000)
      .toISOString()
      .slice(0, 10);
    const name = `DST check ${Date.now()}`;
    const task = await createTask({
      name,
      schedule: {
        type: 'cron',
        expression: '30 8 * * *',
        timezone: 'Europe/Berlin',
      },
    });
    const paused = await createTask({
      name: `Paused OD ${Date.now()}`,
      measurement: { type: 'plate-od', parameters: {} },
      schedule: { type: 'cron', expression: '0 14 * * *', timezone: 'UTC' },
    });
    await fetch(`${API}/tasks/${paused.id}/pause`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}` },
    });

    // The runs' instants, as the server computed them: 08:30 CET, then 08:30 CEST.
    const beforeChange = `${saturday}T07:30:00.000Z`;
    const afterChange = `${sunday}T06:30:00.000Z`;
    const entry = (page: Page, start: string) =>
      page.locator(
        `[data-testid="calendar-entry"][data-start="${start}"][href$="${task.id}"]`,
      );

    const berlin = await openPage('Europe/Berlin');
    await withLog(berlin, async () => {
      await signIn(berlin, `/lab-scheduler/calendar?date=${sunday}&view=week`);
      await entry(berlin, afterChange).waitFor({ timeout: 60_000 });
      for (const start of [beforeChange, afterChange]) {
        expect(await entry(berlin, start).textContent()).toContain(
          `08:30 ${name}`,
        );
      }
      // The same height in the day column on both days: the wall clock, not the UTC instant.
      const tops = await Promise.all(
        [beforeChange, afterChange].map(start =>
          entry(berlin, start).evaluate(e => (e as HTMLElement).style.top),
        ),
      );
      expect(tops[0]).toBe(tops[1]);
      expect(
        await entry(berlin, afterChange).getAttribute('aria-label'),
      ).toMatch(/^08:30 .*, Sun 28 Mar 08:30–08:33 GMT\+2 on /);
      // The paused task is drawn, and says so.
      await berlin
        .locator('[data-testid="calendar-entry"]', { hasText: '(paused)' })
        .first()
        .waitFor();
      await shot(berlin, 'week-desktop');
      expect(await seriousViolations(berlin)).toEqual([]);

      // Click-through to the task.
      await entry(berlin, afterChange).click();
      await berlin
        .getByRole('heading', { name: 'Run history' })
        .waitFor({ timeout: 30_000 });
    });

    // In New York the clocks changed two weeks earlier: the Berlin run moves from 03:30 to 02:30 there.
    const newYork = await openPage('America/New_York');
    await withLog(newYork, async () => {
      await signIn(newYork, `/lab-scheduler/calendar?date=${sunday}&view=week`);
      await entry(newYork, afterChange).waitFor({ timeout: 60_000 });
      expect(await entry(newYork, beforeChange).textContent()).toContain(
        `03:30 ${name}`,
      );
      expect(await entry(newYork, afterChange).textContent()).toContain(
        `02:30 ${name}`,
      );
    });

    // A phone gets the runs as a list by day.
    const phone = await openPage('Europe/Berlin', { width: 390, height: 844 });
    await withLog(phone, async () => {
      await signIn(phone, `/lab-scheduler/calendar?date=${sunday}&view=week`);
      await entry(phone, afterChange).waitFor({ timeout: 60_000 });
      expect(await entry(phone, afterChange).textContent()).toContain(
        `08:30–08:33 ${name}`,
      );
      await shot(phone, 'week-phone');
      expect(await seriousViolations(phone)).toEqual([]);
    });

    // The instrument's catalog page has the calendar as a tab.
    await withLog(berlin, async () => {
      await berlin.goto(
        `${BASE}/catalog/default/resource/plate-reader-1/lab-calendar?date=${sunday}&view=day`,
      );
      await entry(berlin, afterChange).waitFor({ timeout: 60_000 });
      await shot(berlin, 'instrument-tab');
    });
  });
});
