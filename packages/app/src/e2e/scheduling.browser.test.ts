/**
 * @jest-environment node
 */
/*
 * Scheduling as a lab user does it, in real Chromium: create a task from the instrument's card (the
 * measurement type filled in, a notice linking the new task), a failed submit that says what to fix in
 * plain words and puts focus on the first invalid field, the task page, and the list on a 390 px phone
 * without sideways scrolling. axe-core scans the list, the modal with its errors, the task page and the
 * instrument page: no serious or critical violation. Screenshots (desktop and phone) go to e2e-artifacts/.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import {
  ensureAppBuilt,
  repo,
  seriousViolations,
  sleep,
  waitForHttp,
} from './support';

jest.setTimeout(300_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const isCI = ['1', 'true'].includes(String(process.env.CI).toLowerCase());
const artifacts = join(repo, 'e2e-artifacts');
const PORT = 7027;
const BASE = `http://localhost:${PORT}`;
const ZONE = 'Europe/Berlin';
// The embedded default config's development-only static token (README).
const DEV_TOKEN = 'lab-scheduler-dev-token-change-me';

if (!existsSync(CHROMIUM) && isCI) {
  throw new Error(
    `Chromium not found at ${CHROMIUM}; .ci/run installs it (apt-get install chromium)`,
  );
}
const describeIfBrowser = existsSync(CHROMIUM) ? describe : describe.skip;

describeIfBrowser('scheduling in Chromium', () => {
  let backend: ChildProcess;
  let browser: Browser;
  let log = '';
  let browserLog = '';
  const contexts: BrowserContext[] = [];
  // Created through the card by the first test.
  const name = `Morning blank ${Date.now()}`;
  // Created through the API before the tests, so each test stands on its own.
  const seeded = `Weekly pH check ${Date.now()}`;

  async function openPage(viewport = { width: 1440, height: 1000 }) {
    const context = await browser.newContext({
      timezoneId: ZONE,
      locale: 'en-US',
      viewport,
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
  }

  async function signIn(page: Page, path: string) {
    await page.goto(`${BASE}${path}`);
    const enter = page.getByRole('button', { name: 'Enter' });
    if (await enter.isVisible({ timeout: 15_000 }).catch(() => false))
      await enter.click();
  }

  const shot = (page: Page, shotName: string) =>
    page.screenshot({
      path: join(artifacts, `scheduling-${shotName}.png`),
      fullPage: true,
    });

  /** Fails with the backend's log tail, after a screenshot of the page. */
  async function withLog(page: Page, fn: () => Promise<void>) {
    try {
      await fn();
    } catch (error) {
      await shot(page, `failure-${Date.now()}`).catch(() => {});
      throw new Error(
        `${error}\n--- browser ---${browserLog.slice(
          -4000,
        )}\n--- backend log (tail) ---\n${log.slice(-4000)}`,
      );
    }
  }

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    await ensureAppBuilt();
    const data = mkdtempSync(join(tmpdir(), 'scheduling-e2e-'));
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
    await waitForHttp(`${BASE}/api/lab-scheduler/health`);
    const guest = await waitForHttp(`${BASE}/api/auth/guest/refresh`, {
      headers: { 'X-Requested-With': 'XMLHttpRequest' },
    });
    const userToken = (await guest.json()).backstageIdentity.token;
    await waitForHttp(
      `${BASE}/api/catalog/entities/by-name/resource/default/plate-reader-1`,
      { headers: { Authorization: `Bearer ${userToken}` } },
      // The catalog ingests the examples a while after start; slower on a busy machine.
      420_000,
    );
    const created = await fetch(`${BASE}/api/lab-scheduler/tasks`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${DEV_TOKEN}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        name: seeded,
        owner: 'group:default/lab-ops',
        instrumentRef: 'resource:default/plate-reader-1',
        measurement: { type: 'absorbance-spectrum', parameters: {} },
        schedule: { type: 'cron', expression: '0 8 * * 1', timezone: ZONE },
      }),
    });
    if (created.status !== 201)
      throw new Error(`seed task: ${created.status} ${await created.text()}`);
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
    // Building the app and ingesting the catalog take minutes on a busy machine.
  }, 900_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    if (backend && backend.exitCode === null) {
      const exited = new Promise(r => backend.once('exit', r));
      backend.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (backend.exitCode === null) backend.kill('SIGKILL');
    }
  });

  it('creates a task from the instrument card, with its measurement type filled in', async () => {
    const page = await openPage();
    await withLog(page, async () => {
      await signIn(page, '/catalog/default/resource/plate-reader-1');
      // The card is the only place on the instrument's page that schedules.
      const create = page.getByRole('button', {
        name: 'Schedule a measurement',
      });
      await create.waitFor({ timeout: 60_000 });
      await create.click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Name').fill(name);
      // The instrument's first supported type, by its title, once the catalog has answered.
      await dialog
        .locator('#lab-scheduler-measurementType-button')
        .filter({ hasText: 'Absorbance spectrum' })
        .waitFor();
      await dialog.getByLabel('Start wavelength').fill('250');
      await dialog.getByRole('button', { name: 'Create' }).click();
      await dialog.waitFor({ state: 'detached' });
      const notice = page.getByRole('status').filter({ hasText: name });
      await notice.waitFor();
      expect(await notice.textContent()).toContain(`Created “${name}”.`);
      await notice.getByRole('link', { name: 'Open task' }).waitFor();
      await page.getByRole('link', { name }).first().waitFor();
      const viewAll = page.getByRole('link', { name: /View all 2 tasks/ });
      await viewAll.waitFor();
      await shot(page, 'instrument-card');
      // Our card only: the page's Links card (Backstage's empty state, a highlighted YAML
      // snippet) fails colour contrast on its own.
      await viewAll.evaluate(el => {
        // The smallest element holding both the card's list and its "view all" link: the card.
        let card: Element | null = el;
        while (
          card &&
          !card.querySelector(
            '[aria-label="Scheduled measurements on this instrument"]',
          )
        )
          card = card.parentElement;
        card?.setAttribute('data-axe-scope', 'card');
      });
      expect(await seriousViolations(page, '[data-axe-scope="card"]')).toEqual(
        [],
      );
    });
  });

  it('lists the task; a failed submit says what to fix and focuses the first invalid field', async () => {
    const page = await openPage();
    await withLog(page, async () => {
      await signIn(page, '/lab-scheduler');
      await page
        .getByRole('heading', { name: 'Upcoming tests' })
        .waitFor({ timeout: 60_000 });
      const row = page.getByRole('row').filter({ hasText: seeded });
      await row.waitFor();
      // The instrument and the owner by their catalog titles, every time with its zone.
      await row.getByRole('link', { name: 'Plate reader 1' }).waitFor();
      await row.getByRole('link', { name: 'Lab Operations' }).waitFor();
      expect(await row.textContent()).toMatch(/GMT\+1|GMT\+2|CET|CEST/);
      await page.getByText(/Page 1 · \d+ tasks?/).waitFor();
      await shot(page, 'list-desktop');
      expect(await seriousViolations(page)).toEqual([]);

      await page
        .getByRole('button', { name: 'Schedule a measurement' })
        .click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('button', { name: 'Create' }).click();
      const alert = dialog.getByRole('alert');
      await alert.waitFor();
      const text = await alert.textContent();
      expect(text).toContain('Name: Enter a name');
      expect(text).toContain('Instrument: Choose an instrument');
      expect(text).not.toMatch(/entity ref|Too big|Request failed/);
      expect(await page.evaluate(() => document.activeElement?.id)).toBe(
        'lab-scheduler-name',
      );
      // The instrument select tells a screen reader its error.
      const instrument = dialog.locator('#lab-scheduler-instrumentRef-button');
      expect(await instrument.getAttribute('aria-invalid')).toBe('true');
      expect(await instrument.getAttribute('aria-describedby')).toBe(
        'lab-scheduler-instrumentRef-helper-text',
      );
      await shot(page, 'modal-errors');
      expect(await seriousViolations(page)).toEqual([]);
      await dialog.getByRole('button', { name: 'Cancel' }).click();

      // The task's page, with breadcrumbs back to the list.
      await row.getByRole('link', { name: seeded }).click();
      await page.getByRole('navigation', { name: 'Breadcrumb' }).waitFor();
      await page.getByText('Audit trail').waitFor();
      await shot(page, 'task-page');
      expect(await seriousViolations(page)).toEqual([]);
    });
  });

  it('shows the list on a 390 px phone without sideways scrolling', async () => {
    const page = await openPage({ width: 390, height: 844 });
    await withLog(page, async () => {
      await signIn(page, '/lab-scheduler');
      await page
        .getByRole('link', { name: seeded })
        .waitFor({ timeout: 60_000 });
      const scrollWidth = await page.evaluate(
        () => document.scrollingElement!.scrollWidth,
      );
      await shot(page, 'list-phone');
      expect(scrollWidth).toBeLessThanOrEqual(390);
      expect(await seriousViolations(page)).toEqual([]);
    });
  });
});
