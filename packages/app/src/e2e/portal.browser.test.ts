/**
 * @jest-environment node
 */
/*
 * The portal on its embedded defaults, in real Chromium (Debian's, driven by playwright-core): open the
 * Lab Scheduler, create a recurring task through the modal, see it with the right next run, run it now,
 * watch it succeed, and find the card on the instrument's catalog page. Screenshots of each step go to
 * e2e-artifacts/ (git-ignored).
 */
import { firstOccurrenceAtOrAfter } from '@lab-scheduler/plugin-lab-scheduler-common';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DateTime } from 'luxon';
import { Browser, chromium, Page } from 'playwright-core';
import { ensureAppBuilt } from './support';

jest.setTimeout(300_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const isCI = ['1', 'true'].includes(String(process.env.CI).toLowerCase());
const repo = resolve(__dirname, '../../../..');
const artifacts = join(repo, 'e2e-artifacts');
const PORT = 7017;
const BASE = `http://localhost:${PORT}`;
const ZONE = 'Europe/Berlin';

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

describeIfBrowser('the portal in Chromium', () => {
  let backend: ChildProcess;
  let browser: Browser;
  let page: Page;
  let log = '';
  let step = 0;

  const shot = async (name: string) => {
    step++;
    await page.screenshot({
      path: join(artifacts, `${String(step).padStart(2, '0')}-${name}.png`),
      fullPage: true,
    });
  };

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    // One builder at a time: the other browser test files run in parallel.
    await ensureAppBuilt();
    const data = mkdtempSync(join(tmpdir(), 'portal-e2e-'));
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
        labScheduler: {
          execution: {
            rawDataDirectory: join(data, 'raw'),
            simulated: { delayMs: 1000 },
          },
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
    // The catalog ingests the example instruments shortly after start. The static token is confined to
    // the Lab Scheduler (accessRestrictions), so look as the guest user the portal signs in.
    const guest = await waitForHttp(`${BASE}/api/auth/guest/refresh`, {
      headers: { 'X-Requested-With': 'XMLHttpRequest' },
    });
    const userToken = (await guest.json()).backstageIdentity.token;
    await waitForHttp(
      `${BASE}/api/catalog/entities/by-name/resource/default/plate-reader-1`,
      {
        headers: { Authorization: `Bearer ${userToken}` },
      },
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const context = await browser.newContext({
      timezoneId: ZONE,
      locale: 'en-US',
      viewport: { width: 1440, height: 1000 },
    });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    if (backend && backend.exitCode === null) {
      const exited = new Promise(r => backend.once('exit', r));
      backend.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (backend.exitCode === null) backend.kill('SIGKILL');
    }
  });

  it('creates, runs and shows a measurement end to end', async () => {
    try {
      await page.goto(`${BASE}/lab-scheduler`);
      const enter = page.getByRole('button', { name: 'Enter' });
      if (await enter.isVisible({ timeout: 15_000 }).catch(() => false))
        await enter.click();
      await page
        .getByRole('heading', { name: 'Upcoming tests' })
        .waitFor({ timeout: 60_000 });
      await shot('upcoming-tests');

      // Create a recurring task through the modal.
      const name = `Blank check ${Date.now()}`;
      await page
        .getByRole('button', { name: 'Schedule a measurement' })
        .click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Name').fill(name);
      await dialog.locator('#lab-scheduler-instrumentRef-button').click();
      await page.getByRole('option', { name: 'Plate reader 1' }).click();
      await dialog.locator('#lab-scheduler-timezone').fill(ZONE);
      await dialog.getByText('Monday through Friday').first().waitFor();
      await shot('create-modal');
      await dialog.getByRole('button', { name: 'Create' }).click();
      await dialog.waitFor({ state: 'detached' });

      // In the list, with the next run the dispatcher will use, in the viewer's local time.
      const row = page.getByRole('row').filter({ hasText: name });
      await row.waitFor();
      const expected = firstOccurrenceAtOrAfter(
        { type: 'cron', expression: '0 9 * * 1-5', timezone: ZONE },
        Date.now(),
      )!;
      const shown = DateTime.fromMillis(expected)
        .setZone(ZONE)
        .setLocale('en-US')
        .toLocaleString(DateTime.DATETIME_MED);
      await row.getByText(shown, { exact: false }).waitFor();
      expect(await row.textContent()).toContain(
        'At 09:00, Monday through Friday (Europe/Berlin)',
      );
      await shot('task-in-list');

      // Run now, and watch the status reach succeeded without reloading.
      await row.getByRole('button', { name: `Run ${name} now` }).click();
      // Run now asks first.
      await page
        .getByRole('dialog')
        .getByRole('button', { name: 'Run now' })
        .click();
      // The outcome chip: measured (with or without QC checks) is what "succeeded" reads as.
      await row
        .getByText(/^(Measured|QC pass|QC fail.*)$/)
        .waitFor({ timeout: 60_000 });
      await shot('run-succeeded');

      // The task's page shows the run with its QC verdict and result.
      await row.getByRole('link', { name }).click();
      await page.getByText('Run history', { exact: true }).first().waitFor();
      await page
        .getByRole('row')
        .filter({ hasText: 'Peak wavelength' })
        .first()
        .waitFor({ timeout: 30_000 });
      await shot('task-detail');

      // The instrument's catalog page has the card with the task.
      await page.goto(`${BASE}/catalog/default/resource/plate-reader-1`);
      const card = page.locator('text=Scheduled measurements').first();
      await card.waitFor({ timeout: 60_000 });
      await page.getByText(name).first().waitFor();
      await page.getByText('Lab Operations').first().waitFor();
      expect(await page.getByText('Error in catalog').count()).toBe(0);
      await shot('instrument-card');
    } catch (error) {
      if (page) await shot('failure').catch(() => {});
      throw new Error(
        `${error}\n--- backend log (tail) ---\n${log.slice(-4000)}`,
      );
    }
  });
});
