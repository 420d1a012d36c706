/**
 * @jest-environment node
 */
/*
 * The instrument calendar and the clash warning in real Chromium (Debian's, driven by playwright-core), on
 * the portal's embedded defaults: a daily 08:30 Europe/Berlin run stays at 08:30 on the calendar across the
 * spring-forward night for a viewer in Berlin, and moves from 03:30 to 02:30 for a viewer in New York (the
 * browser's zone set through playwright's `timezoneId`); axe-core finds no serious or critical violation on
 * the calendar (desktop and phone); the instrument's catalog page has the calendar tab. The clash warning:
 * on a capacity-1 instrument with two overlapping daily tasks, the create modal (desktop and phone) sends
 * POST /calendar/clashes and its panel names both runs a third schedule overlaps and by how much; a free
 * slot makes the warning go; the edit modal leaves the task's own runs out; axe-core finds nothing serious
 * in the modal with the warning. Screenshots go to e2e-artifacts/calendar-*.png and clash-*.png
 * (git-ignored).
 */
import { DateTime } from 'luxon';
import { Page } from 'playwright-core';
import {
  describeIfBrowser,
  Portal,
  PORTAL_STARTUP_TIMEOUT_MS,
  seriousViolations,
  startPortal,
} from './support';

jest.setTimeout(300_000);

const PLATE_READER = 'resource:default/plate-reader-1';
/** Capacity 1: no lab-scheduler.io/capacity annotation (examples/instruments.yaml). */
const UV_VIS = 'resource:default/uv-vis-1';

/** The last Sunday of March (Europe's spring-forward day) at least a week ahead, as yyyy-mm-dd. */
function nextSpringForward(): string {
  for (let year = new Date().getUTCFullYear(); ; year++) {
    const lastOfMarch = new Date(Date.UTC(year, 2, 31));
    const sunday = new Date(Date.UTC(year, 2, 31 - lastOfMarch.getUTCDay()));
    if (sunday.getTime() > Date.now() + 7 * 86_400_000)
      return sunday.toISOString().slice(0, 10);
  }
}

describeIfBrowser('the instrument calendar in Chromium', () => {
  let portal: Portal;

  beforeAll(async () => {
    portal = await startPortal({ name: 'calendar', port: 7019 });
  }, PORTAL_STARTUP_TIMEOUT_MS);

  afterAll(() => portal?.stop());

  // en-GB: the calendar's own formats (24-hour clock, "Sun 28 Mar") are what the assertions read.
  const openPage = (
    timezoneId: string,
    viewport = { width: 1440, height: 1000 },
  ) => portal.newPage({ timezoneId, locale: 'en-GB', viewport });

  const signIn = (page: Page, path: string) => portal.signIn(page, path);

  const shot = (page: Page, name: string) =>
    portal.screenshot(page, `calendar-${name}`);

  /** Fails with the browser's errors and the backend's log tail, after a screenshot of the page. */
  const withLog = (page: Page | undefined, fn: () => Promise<void>) =>
    portal.withLogs(page, 'calendar', fn);

  async function createTask(body: object) {
    return portal.request('POST', '/tasks', {
      owner: 'user:default/ada',
      instrumentRef: PLATE_READER,
      measurement: { type: 'absorbance-spectrum', parameters: {} },
      ...body,
    });
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
    await portal.request('POST', `/tasks/${paused.id}/pause`);

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
        `${portal.base}/catalog/default/resource/plate-reader-1/lab-calendar?date=${sunday}&view=day`,
      );
      await entry(berlin, afterChange).waitFor({ timeout: 60_000 });
      await shot(berlin, 'instrument-tab');
    });
  });

  /**
   * The create and edit modal on a capacity-1 instrument (uv-vis-1 has no capacity annotation) where two
   * daily tasks already overlap: A at HH:00 and B at HH:02, 3 min each (absorbance spectrum).
   */
  it('warns in the create and edit modal which runs clash on the instrument and by how much, and stops when the slot is free', async () => {
    // Hours away from now, so that no run of A or B is due or in progress while the test runs.
    const hour = DateTime.now().setZone('Europe/Berlin').hour < 12 ? 17 : 7;
    const hh = String(hour).padStart(2, '0');
    const stamp = Date.now();
    const a = await portal.request('POST', '/tasks', {
      name: `Clash A ${stamp}`,
      owner: 'user:default/ada',
      instrumentRef: UV_VIS,
      measurement: { type: 'absorbance-spectrum', parameters: {} },
      schedule: {
        type: 'cron',
        expression: `0 ${hour} * * *`,
        timezone: 'Europe/Berlin',
      },
    });
    const b = await portal.request('POST', '/tasks', {
      name: `Clash B ${stamp}`,
      owner: 'group:default/lab-ops',
      instrumentRef: UV_VIS,
      measurement: { type: 'absorbance-spectrum', parameters: {} },
      schedule: {
        type: 'cron',
        expression: `2 ${hour} * * *`,
        timezone: 'Europe/Berlin',
      },
    });

    /** The clash check the browser sends for this cron expression, and the server's answer. */
    const clashCheck = (page: Page, expression: string) => {
      const answered = page.waitForResponse(
        r =>
          r.url() === `${portal.api}/calendar/clashes` &&
          r.request().method() === 'POST' &&
          r.request().postDataJSON()?.schedule?.expression === expression,
        { timeout: 30_000 },
      );
      // Awaited later; a step failing before then must not leave it rejecting unhandled.
      answered.catch(() => {});
      return answered;
    };

    /** Opens the create modal on the list, picks uv-vis-1 and types `expression`. */
    async function draft(page: Page, expression: string) {
      await portal.signIn(page, '/lab-scheduler');
      await page
        .getByRole('button', { name: 'Schedule a measurement' })
        .click({ timeout: 60_000 });
      const dialog = page.getByRole('dialog');
      await dialog.locator('#lab-scheduler-instrumentRef-button').click();
      await page
        .getByRole('option', { name: 'UV-Vis spectrophotometer 1' })
        .click();
      const checked = clashCheck(page, expression);
      await dialog
        .getByRole('textbox', { name: 'Cron expression' })
        .fill(expression);
      return { dialog, checked };
    }

    const desktop = await portal.newPage({
      timezoneId: 'Europe/Berlin',
      locale: 'en-GB',
      viewport: { width: 1440, height: 900 },
    });
    await withLog(desktop, async () => {
      // A third task at HH:01 would overlap both: A (HH:00–HH:03) by 2 min and B (HH:02–HH:05) by 2 min,
      // with the instrument full from HH:01 to HH:04.
      const { dialog, checked } = await draft(desktop, `1 ${hour} * * *`);
      const response = await checked;
      expect(response.status()).toBe(200);
      expect(response.request().postDataJSON()).toMatchObject({
        instrumentRef: UV_VIS,
        measurementType: 'absorbance-spectrum',
        schedule: { type: 'cron', timezone: 'Europe/Berlin' },
      });
      const panel = dialog.getByTestId('clash-warnings');
      await panel
        .getByText('5 of the next 5 runs clash on uv-vis-1 (1 run at a time)')
        .waitFor();
      const items = await panel.getByRole('listitem').allTextContents();
      expect(items).toHaveLength(5);
      for (const item of items) {
        // The run's own time, with its zone, then what it overlaps and by how much.
        expect(item).toMatch(
          new RegExp(
            `^\\w{3} \\d+ \\w{3} ${hh}:01 \\S+: the instrument is full for 3 min`,
          ),
        );
        expect(item).toContain(
          `“${a.name}” (${hh}:00–${hh}:03, by 2 min), “${b.name}” (${hh}:02–${hh}:05, by 2 min)`,
        );
      }
      // The dialog's content scrolls: the panel (below the preview) into view for the screenshot.
      await panel.evaluate(e => e.scrollIntoView({ block: 'start' }));
      await portal.screenshot(desktop, 'clash-create-desktop');
      // The modal open with the warning shown.
      expect(await seriousViolations(desktop)).toEqual([]);

      // A free slot: the next check finds nothing, and the warning goes.
      const freed = clashCheck(desktop, `30 ${hour} * * *`);
      await dialog
        .getByRole('textbox', { name: 'Cron expression' })
        .fill(`30 ${hour} * * *`);
      expect((await freed).status()).toBe(200);
      await panel
        .getByText('No clash with other runs on uv-vis-1 (1 run at a time).')
        .waitFor();
      expect(await panel.getByRole('alert').count()).toBe(0);
      expect(await panel.getByRole('listitem').count()).toBe(0);
      await dialog.getByRole('button', { name: 'Cancel' }).click();

      // Editing B: its own runs are not clashes, A's still are (HH:02–HH:05 against HH:00–HH:03).
      const edit = clashCheck(desktop, `2 ${hour} * * *`);
      await desktop
        .getByRole('row')
        .filter({ hasText: b.name })
        .getByRole('button', { name: `Edit ${b.name}` })
        .click();
      const editResponse = await edit;
      expect(editResponse.request().postDataJSON()).toMatchObject({
        taskId: b.id,
      });
      const editPanel = desktop
        .getByRole('dialog')
        .getByTestId('clash-warnings');
      await editPanel
        .getByText(/^5 of the next 5 runs clash on uv-vis-1/)
        .waitFor();
      for (const item of await editPanel
        .getByRole('listitem')
        .allTextContents()) {
        expect(item).toContain(
          `full for 1 min — overlaps “${a.name}” (${hh}:00–${hh}:03, by 1 min)`,
        );
        expect(item).not.toContain(b.name);
      }
      await editPanel.evaluate(e => e.scrollIntoView({ block: 'start' }));
      await portal.screenshot(desktop, 'clash-edit-desktop');
      const moved = clashCheck(desktop, `10 ${hour} * * *`);
      await desktop
        .getByRole('dialog')
        .getByRole('textbox', { name: 'Cron expression' })
        .fill(`10 ${hour} * * *`);
      await moved;
      await editPanel
        .getByText('No clash with other runs on uv-vis-1 (1 run at a time).')
        .waitFor();
    });

    const phone = await portal.newPage({
      timezoneId: 'Europe/Berlin',
      locale: 'en-GB',
      viewport: { width: 390, height: 844 },
    });
    await withLog(phone, async () => {
      const { dialog, checked } = await draft(phone, `1 ${hour} * * *`);
      expect((await checked).status()).toBe(200);
      const panel = dialog.getByTestId('clash-warnings');
      await panel
        .getByText(/^5 of the next 5 runs clash on uv-vis-1/)
        .waitFor();
      await panel.evaluate(e => e.scrollIntoView({ block: 'start' }));
      await portal.screenshot(phone, 'clash-create-phone');
      expect(await seriousViolations(phone)).toEqual([]);
    });
  });
});
