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
import { Page } from 'playwright-core';
import {
  describeIfBrowser,
  Portal,
  PORTAL_STARTUP_TIMEOUT_MS,
  seriousViolations,
  startPortal,
} from './support';

jest.setTimeout(300_000);

const ZONE = 'Europe/Berlin';

describeIfBrowser('scheduling in Chromium', () => {
  let portal: Portal;
  // Created through the card by the first test.
  const name = `Morning blank ${Date.now()}`;
  // Created through the API before the tests, so each test stands on its own.
  const seeded = `Weekly pH check ${Date.now()}`;

  beforeAll(async () => {
    portal = await startPortal({ name: 'scheduling', port: 7027 });
    await portal.request('POST', '/tasks', {
      name: seeded,
      owner: 'group:default/lab-ops',
      instrumentRef: 'resource:default/plate-reader-1',
      measurement: { type: 'absorbance-spectrum', parameters: {} },
      schedule: { type: 'cron', expression: '0 8 * * 1', timezone: ZONE },
    });
  }, PORTAL_STARTUP_TIMEOUT_MS);

  afterAll(() => portal?.stop());

  const openPage = (viewport = { width: 1440, height: 1000 }) =>
    portal.newPage({ timezoneId: ZONE, locale: 'en-US', viewport });

  const signIn = (page: Page, path: string) => portal.signIn(page, path);

  const shot = (page: Page, shotName: string) =>
    portal.screenshot(page, `scheduling-${shotName}`);

  /** Fails with the browser's errors and the backend's log tail, after a screenshot of the page. */
  const withLog = (page: Page, fn: () => Promise<void>) =>
    portal.withLogs(page, 'scheduling', fn);

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
      // The whole instrument page: Backstage's empty Links card (its YAML example fails colour
      // contrast) is left out of instruments without links (EntityPage.tsx).
      expect(await seriousViolations(page)).toEqual([]);
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
