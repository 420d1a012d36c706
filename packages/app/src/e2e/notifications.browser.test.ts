/**
 * @jest-environment node
 */
/*
 * A task owner hears about a failed run in the demo portal (issue 12), in real Chromium on the portal's
 * embedded defaults: the notifications and signals backends of packages/backend, the guest user Ada.
 * A one-time plate measurement owned by Ada fails QC (the simulated plate's CV is about 5 %, the task
 * allows 0.5 %); the plugin's notifier (every 10 s, labScheduler.notifications) sends it to her, and she
 * finds it on the portal's notifications page, titled with the task and the verdict, linking to the run
 * page, which shows the QC fail. Screenshots: e2e-artifacts/notifications-*.png (git-ignored).
 */
import {
  describeIfBrowser,
  Portal,
  PORTAL_STARTUP_TIMEOUT_MS,
  sleep,
  startPortal,
} from './support';

jest.setTimeout(600_000);

describeIfBrowser('run notifications in Chromium', () => {
  let portal: Portal;
  let task: { id: string; name: string };
  let run: { id: string; status: string; outcome: { kind: string } };

  beforeAll(async () => {
    portal = await startPortal({
      name: 'notifications',
      port: 7047,
      execution: { simulated: { delay: '100ms' } },
    });
    await portal.withLogs(undefined, 'notifications', async () => {
      task = await portal.request('POST', '/tasks', {
        name: `Plate QC ${Date.now()}`,
        owner: 'user:default/ada',
        instrumentRef: 'resource:default/plate-reader-1',
        measurement: {
          type: 'plate-od',
          parameters: { plateFormat: 96, qc: { maxCvPercent: 0.5 } },
        },
        // Far ahead: the run of this test is the one it starts.
        schedule: {
          type: 'once',
          at: new Date(Date.now() + 30 * 86_400_000).toISOString(),
        },
        policies: { notify: 'failures' },
      });
      const triggered = await portal.request(
        'POST',
        `/tasks/${task.id}/trigger`,
      );
      const deadline = Date.now() + 60_000;
      for (;;) {
        run = await portal.request('GET', `/runs/${triggered.id}`);
        if (!['pending', 'queued', 'running'].includes(run.status)) break;
        if (Date.now() > deadline)
          throw new Error(`run ${run.id} still ${run.status} after 60 s`);
        await sleep(300);
      }
    });
  }, PORTAL_STARTUP_TIMEOUT_MS);

  afterAll(() => portal?.stop());

  it("shows the owner the failed run on the portal's notifications page, linking to the run page", async () => {
    expect(run.outcome.kind).toBe('qc_fail');
    const page = await portal.newPage();
    try {
      await portal.withLogs(page, 'notifications', async () => {
        await portal.signIn(page, '/notifications');
        // The notifier reads runs that finished at least 5 s ago, every 10 s: the notification arrives
        // within about 15 s. The page is reloaded meanwhile (it does not have to be open when it is sent).
        const title = `${task.name}: QC fail: CV`;
        const link = page.getByRole('link', { name: title });
        const deadline = Date.now() + 90_000;
        for (;;) {
          try {
            await link.waitFor({ timeout: 10_000 });
            break;
          } catch (error) {
            if (Date.now() > deadline) throw error;
            await page.reload();
          }
        }
        expect(await link.getAttribute('href')).toBe(
          `/lab-scheduler/runs/${run.id}`,
        );
        // Exactly one: the notifier sends a run once. Counted in the inbox's table and by the notifications
        // backend: the title also shows in the portal's snackbar when the notification's signal reaches
        // the open page, so a count over the whole page read 2 for one notification.
        expect(
          await page.getByRole('row').filter({ hasText: title }).count(),
        ).toBe(1);
        await page.getByText('Unread notifications (1)').waitFor();
        await portal.screenshot(page, 'notifications-inbox');

        await link.click();
        await page.waitForURL(`**/lab-scheduler/runs/${run.id}`);
        await page
          .getByText('QC fail: CV')
          .first()
          .waitFor({ timeout: 60_000 });
        await page
          .getByRole('figure', { name: 'Plate heatmap, 96 wells' })
          .waitFor({ timeout: 60_000 });
        await portal.screenshot(page, 'notifications-run-page');
      });
    } finally {
      await page.context().close();
    }
  });
});
