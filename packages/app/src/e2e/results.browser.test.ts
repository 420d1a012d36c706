/**
 * @jest-environment node
 */
/*
 * Results a lab scientist can read, in real Chromium (Debian's, driven by playwright-core) on the portal's
 * embedded defaults: one run of each measurement type (simulated instruments), one of them failing QC. The
 * QC fail shows as the fail chip on the task list (not a green "succeeded"), its chip opens the run page
 * with the checks and the plate heatmap, and every run page draws its plot, on a desktop and on a 390 px
 * phone without sideways scrolling. Screenshots go to e2e-artifacts/results-*.png (git-ignored).
 */
import { join } from 'node:path';
import { Page } from 'playwright-core';
import {
  artifacts,
  describeIfBrowser,
  Portal,
  PORTAL_STARTUP_TIMEOUT_MS,
  sleep,
  startPortal,
} from './support';

jest.setTimeout(600_000);

/** One task per measurement type, on an instrument that offers it, and the plot its run page must draw. */
const CASES = [
  {
    type: 'plate-od',
    instrument: 'plate-reader-1',
    // The simulated plate's CV is about 5 %: a 0.5 % limit fails QC.
    parameters: { plateFormat: 96, qc: { maxCvPercent: 0.5 } },
    figure: 'Plate heatmap, 96 wells',
  },
  {
    type: 'absorbance-spectrum',
    instrument: 'uv-vis-1',
    parameters: { qc: { minPeakAbsorbance: 0.1, maxPeakAbsorbance: 5 } },
    figure: 'Absorbance spectrum',
  },
  {
    type: 'ph-timeseries',
    instrument: 'ph-meter-1',
    parameters: {
      durationSeconds: 300,
      intervalSeconds: 10,
      qc: { minPh: 6, maxPh: 8 },
    },
    figure: 'pH time series',
  },
  {
    type: 'qpcr-amplification',
    instrument: 'qpcr-1',
    parameters: { wells: 24, cycles: 40 },
    figure: 'qPCR amplification curves',
  },
  {
    type: 'mass-reading',
    instrument: 'balance-1',
    parameters: { replicates: 8, unit: 'g' },
    figure: 'Mass replicates',
  },
] as const;

describeIfBrowser('results in Chromium', () => {
  let portal: Portal;
  const tasks: Record<string, { id: string; name: string }> = {};
  const runs: Record<string, { id: string; status: string; result: any }> = {};

  /** Runs the task now and waits for the run to finish; returns the finished run. */
  async function runNow(taskId: string) {
    const run = await portal.request('POST', `/tasks/${taskId}/trigger`);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const current = await portal.request('GET', `/runs/${run.id}`);
      if (!['pending', 'queued', 'running'].includes(current.status))
        return current;
      if (Date.now() > deadline)
        throw new Error(`run ${run.id} still ${current.status} after 60 s`);
      await sleep(300);
    }
  }

  beforeAll(async () => {
    portal = await startPortal({
      name: 'results',
      port: 7037,
      execution: { simulated: { delay: '100ms' } },
    });
    await portal.withLogs(undefined, 'results', async () => {
      // Far in the future: the runs of this test are the ones it starts.
      const at = new Date(Date.now() + 30 * 86_400_000).toISOString();
      for (const c of CASES) {
        const task = await portal.request('POST', '/tasks', {
          name: `Results ${c.type} ${Date.now()}`,
          owner: 'user:default/ada',
          instrumentRef: `resource:default/${c.instrument}`,
          measurement: { type: c.type, parameters: c.parameters },
          schedule: { type: 'once', at },
        });
        tasks[c.type] = task;
        runs[c.type] = await runNow(task.id);
      }
      // Two more runs of the plate: a trend has more than one point.
      await runNow(tasks['plate-od'].id);
      await runNow(tasks['plate-od'].id);
    });
  }, PORTAL_STARTUP_TIMEOUT_MS);

  afterAll(() => portal?.stop());

  async function newPage(viewport: { width: number; height: number }) {
    const page = await portal.newPage({
      locale: 'en-US',
      timezoneId: 'Europe/Berlin',
      viewport,
    });
    await portal.signIn(page, '/lab-scheduler');
    await page
      .getByRole('heading', { name: 'Lab Scheduler' })
      .first()
      .waitFor({ timeout: 60_000 });
    return page;
  }

  const shot = (page: Page, name: string) =>
    portal.screenshot(page, `results-${name}`);

  /** How much wider than the viewport the page is (0: no sideways scrolling). */
  const sidewaysOverflow = (page: Page) =>
    page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );

  /** Opens a case's run page and shoots its plot; how many wells or SVG series and points the plot drew. */
  async function drawnOnRunPage(
    page: Page,
    type: (typeof CASES)[number]['type'],
    device: string,
  ) {
    const c = CASES.find(x => x.type === type)!;
    await page.goto(`${portal.base}/lab-scheduler/runs/${runs[type].id}`);
    const figure = page.getByRole('figure', { name: c.figure });
    await figure.waitFor({ timeout: 60_000 });
    // The page shot is cut at the viewport on a desktop (the page scrolls inside Backstage's layout).
    await figure.screenshot({
      path: join(artifacts, `results-plot-${type}-${device}.png`),
    });
    return figure
      .locator(
        '[data-well], path.recharts-line-curve, .recharts-scatter-symbol',
      )
      .count();
  }

  it('shows a QC fail as the fail chip, and its run page with the checks and the heatmap', async () => {
    const page = await newPage({ width: 1440, height: 1000 });
    try {
      await portal.withLogs(page, 'results-qc-fail', async () => {
        expect(runs['plate-od'].result.qc.status).toBe('fail');
        const row = page
          .getByRole('row')
          .filter({ hasText: tasks['plate-od'].name });
        await row.getByText('QC fail: CV').waitFor({ timeout: 60_000 });
        await shot(page, 'list-qc-fail');

        await row
          .getByRole('link', { name: 'QC fail: CV: open the run' })
          .click();
        const figure = page.getByRole('figure', {
          name: 'Plate heatmap, 96 wells',
        });
        await figure.waitFor({ timeout: 60_000 });
        expect(await figure.locator('[data-well]').count()).toBe(96);
        const checks = page.getByRole('table', { name: 'QC checks' });
        expect(
          await checks.getByRole('row').filter({ hasText: 'CV' }).textContent(),
        ).toMatch(/CV.*%≤ 0.5 %FAIL/);
        await shot(page, 'run-plate-od-desktop');

        // The task page: the trend of the CV across the three runs, with the QC limit.
        await page.getByRole('link', { name: 'Task page' }).click();
        const trend = page.getByRole('figure', { name: 'Trend of cv' });
        await trend.waitFor({ timeout: 60_000 });
        expect(await trend.locator('.trend-point').count()).toBe(3);
        await trend.getByText('max 0.5 %').waitFor();
        await shot(page, 'task-trend-desktop');
      });
    } finally {
      await page.context().close();
    }
  });

  /**
   * Opens every case's run page in a new context of this size (then `more`, e.g. the task page), with a
   * screenshot each; per page: how much its plot drew and how far it overflows sideways.
   */
  async function visitRunPages(
    device: string,
    viewport: { width: number; height: number },
    more: (page: Page) => Promise<void> = async () => {},
  ) {
    const page = await newPage(viewport);
    const seen: Record<string, { drawn: number; overflow: number }> = {};
    try {
      return await portal.withLogs(page, `results-${device}`, async () => {
        for (const c of CASES) {
          const drawn = await drawnOnRunPage(page, c.type, device);
          seen[c.type] = { drawn, overflow: await sidewaysOverflow(page) };
          await shot(page, `run-${c.type}-${device}`);
        }
        await more(page);
        return seen;
      });
    } finally {
      await page.context().close();
    }
  }

  const everyType = CASES.map(c => c.type).sort();
  // Drawn, not just mounted: a chart measured at width 0 draws no series.
  const drawnTypes = (seen: Record<string, { drawn: number }>) =>
    Object.keys(seen)
      .filter(type => seen[type].drawn > 0)
      .sort();

  it('plots every measurement type on a desktop', async () => {
    const seen = await visitRunPages('desktop', { width: 1440, height: 1000 });
    expect(drawnTypes(seen)).toEqual(everyType);
  });

  it('plots every measurement type on a 390 px phone, and the task page, without sideways scrolling', async () => {
    let taskPageOverflow = -1;
    const seen = await visitRunPages(
      'phone',
      { width: 390, height: 844 },
      async page => {
        await page.goto(
          `${portal.base}/lab-scheduler/tasks/${tasks['plate-od'].id}`,
        );
        await page.getByRole('figure', { name: 'Trend of cv' }).waitFor();
        await page.getByRole('list', { name: 'Run history' }).waitFor();
        taskPageOverflow = await sidewaysOverflow(page);
        await shot(page, 'task-phone');
      },
    );
    expect(drawnTypes(seen)).toEqual(everyType);
    expect(Object.values(seen).map(v => v.overflow)).toEqual(
      CASES.map(() => 0),
    );
    expect(taskPageOverflow).toBe(0);
  });
});
