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
import { DateTime } from 'luxon';
import { Page } from 'playwright-core';
import {
  describeIfBrowser,
  Portal,
  PORTAL_STARTUP_TIMEOUT_MS,
  startPortal,
} from './support';

jest.setTimeout(300_000);

const ZONE = 'Europe/Berlin';

describeIfBrowser('the portal in Chromium', () => {
  let portal: Portal;
  let page: Page;
  let step = 0;

  const shot = async (name: string) => {
    step++;
    await portal.screenshot(page, `${String(step).padStart(2, '0')}-${name}`);
  };

  beforeAll(async () => {
    portal = await startPortal({
      name: 'portal',
      port: 7017,
      execution: { simulated: { delay: '1s' } },
    });
    page = await portal.newPage({ timezoneId: ZONE, locale: 'en-US' });
  }, PORTAL_STARTUP_TIMEOUT_MS);

  afterAll(() => portal?.stop());

  it('creates, runs and shows a measurement end to end', async () => {
    await portal.withLogs(page, 'portal', async () => {
      await portal.signIn(page, '/lab-scheduler');
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
      // The outcome chip: measured (with or without QC checks) is what "succeeded" reads as. The run
      // takes 1 s; 30 s is well under the list's 60 s poll with signals, so only a live update (the
      // run-update signal, or the short poll while a run is under way) gets it there in time.
      await row
        .getByText(/^(Measured|QC pass|QC fail.*)$/)
        .waitFor({ timeout: 30_000 });
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
      await page.goto(`${portal.base}/catalog/default/resource/plate-reader-1`);
      const card = page.locator('text=Scheduled measurements').first();
      await card.waitFor({ timeout: 60_000 });
      await page.getByText(name).first().waitFor();
      await page.getByText('Lab Operations').first().waitFor();
      expect(await page.getByText('Error in catalog').count()).toBe(0);
      await shot('instrument-card');
    });
  });
});
