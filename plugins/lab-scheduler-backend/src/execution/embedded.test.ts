import { TestDatabaseId } from '@backstage/backend-test-utils';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Knex } from 'knex';
import request from 'supertest';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import {
  createOneTimeTask,
  dueIn,
  newestRunIs,
  pollRuns,
} from '../__testUtils__/oneTimeTasks';
import {
  asService,
  asUser,
  startLabSchedulerBackend,
} from '../__testUtils__/testBackend';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const API = '/api/lab-scheduler';

/**
 * The embedded default end to end: API → dispatcher → in-process queue → executor (the Lambda's code)
 * → run succeeded with summary and raw data, with no AWS at all.
 */
describe.each(databaseIds)(
  'embedded execution on %s',
  (databaseId: TestDatabaseId) => {
    const rawDir = mkdtempSync(join(tmpdir(), 'lab-raw-'));
    let backend: Awaited<ReturnType<typeof startLabSchedulerBackend>>;
    let knex: Knex;

    async function start(faultRate: number) {
      knex = await databases.init(databaseId);
      backend = await startLabSchedulerBackend(knex, {
        labScheduler: {
          dispatcher: { enabled: true, pollInterval: '1s' },
          queue: { type: 'inProcess' },
          execution: {
            rawDataDirectory: rawDir,
            maxAttempts: 3,
            retryDelay: '20ms',
            simulated: { faultRate },
          },
        },
      });
    }

    afterEach(async () => {
      await backend.stop();
    });

    const waitForStatus = (taskId: string, statuses: string[]) =>
      pollRuns(backend.server, taskId, newestRunIs(...statuses), {
        polls: 400,
        intervalMs: 50,
      });

    it('measures a task that comes due and records summary, QC and raw data', async () => {
      await start(0);
      const at = new Date(Date.now() + 1500).toISOString();
      const created = await createOneTimeTask(backend.server, {
        measurement: {
          type: 'absorbance-spectrum',
          parameters: { qc: { minPeakAbsorbance: 0.1 } },
        },
        schedule: { type: 'once', at },
      });
      const [run] = await waitForStatus(created.id, ['succeeded', 'failed']);
      expect(run).toMatchObject({
        status: 'succeeded',
        attempt: 1,
        scheduledFor: at,
        error: null,
        result: {
          measurementType: 'absorbance-spectrum',
          driver: 'simulated',
          qc: { status: 'pass' },
          summary: expect.objectContaining({
            peakWavelengthNm: expect.any(Number),
          }),
        },
      });
      expect(Date.parse(run.publishedAt)).toBeGreaterThanOrEqual(
        Date.parse(run.scheduledFor),
      );
      expect(Date.parse(run.finishedAt)).toBeGreaterThanOrEqual(
        Date.parse(run.startedAt),
      );
      const file = run.result.rawData.uri.replace('file://', '');
      expect(existsSync(file)).toBe(true);
      expect(
        JSON.parse(readFileSync(file, 'utf8')).data.absorbance.length,
      ).toBe(run.result.summary.points);
      const raw = await request(backend.server)
        .get(`${API}/runs/${run.id}/raw`)
        .set('Authorization', asUser());
      expect(raw.status).toBe(200);
      expect(raw.body.data.absorbance).toHaveLength(run.result.summary.points);
      expect(
        (await request(backend.server).get(`${API}/runs/${run.id}/raw`)).status,
      ).toBe(401);
      const task = (
        await request(backend.server)
          .get(`${API}/tasks/${created.id}`)
          .set('Authorization', asUser())
      ).body;
      expect(task).toMatchObject({
        state: 'completed',
        nextRunAt: null,
        lastRun: { id: run.id, status: 'succeeded' },
      });
    });

    it('retries an instrument fault and then records the failure; "run now" goes the same way', async () => {
      await start(1);
      const created = await createOneTimeTask(backend.server, {
        schedule: dueIn(3_600_000),
      });
      const triggered = await request(backend.server)
        .post(`${API}/tasks/${created.id}/trigger`)
        .set('Authorization', asUser());
      expect(triggered.status).toBe(202);
      const [run] = await waitForStatus(created.id, ['failed', 'succeeded']);
      expect(run).toMatchObject({
        id: triggered.body.id,
        status: 'failed',
        attempt: 3,
      });
      expect(run.error).toMatch(
        /InstrumentFaultError: Simulated instrument fault/,
      );
      const audit = (
        await request(backend.server)
          .get(`${API}/tasks/${created.id}/audit`)
          .set('Authorization', asUser())
      ).body.items;
      expect(audit.map((a: any) => a.action)).toEqual(['create', 'trigger']);
    });

    it('accepts run events from services only, validates them and never starts a run twice', async () => {
      await start(0);
      const created = await createOneTimeTask(backend.server, {
        schedule: dueIn(3_600_000),
      });
      const knexRun = await request(backend.server)
        .post(`${API}/tasks/${created.id}/trigger`)
        .set('Authorization', asUser());
      await waitForStatus(created.id, ['succeeded']);
      const events = `${API}/runs/${knexRun.body.id}/events`;
      const user = await request(backend.server)
        .post(events)
        .set('Authorization', asUser())
        .send({ type: 'started', attempt: 1 });
      expect(user.status).toBe(403);
      const bad = await request(backend.server)
        .post(events)
        .set('Authorization', asService())
        .send({ type: 'exploded' });
      expect(bad.status).toBe(400);
      const again = await request(backend.server)
        .post(events)
        .set('Authorization', asService())
        .send({ type: 'started', attempt: 2 });
      expect(again.body).toMatchObject({ proceed: false, status: 'succeeded' });
      // Reports need the claim token of the run's message: without it, nothing changes (409).
      const forged = await request(backend.server)
        .post(events)
        .set('Authorization', asService())
        .send({ type: 'failed', error: 'forged', retrying: false });
      expect(forged.status).toBe(409);
      expect(forged.body.error.message).toMatch(/no claim token/);
      const { claim_token: claimToken } = await knex('lab_scheduler_runs')
        .where({ id: knexRun.body.id })
        .first();
      expect(claimToken).toEqual(expect.any(String));
      const late = await request(backend.server)
        .post(events)
        .set('Authorization', asService())
        .send({
          type: 'failed',
          error: 'late duplicate',
          retrying: false,
          claimToken,
        });
      expect(late.status).toBe(200);
      expect(late.body.status).toBe('succeeded'); // a finished run is never overwritten

      // Every report is audited with its principal, accepted or not; the token itself never shows.
      const audit = await request(backend.server)
        .get(events)
        .set('Authorization', asUser());
      expect(audit.status).toBe(200);
      expect(
        audit.body.items.map((e: any) => [e.event, e.accepted, e.actor]),
      ).toEqual([
        ['started', true, 'lab-scheduler:in-process-executor'],
        ['succeeded', true, 'lab-scheduler:in-process-executor'],
        ['started', false, expect.stringMatching(/^service:/)],
        ['failed', false, expect.stringMatching(/^service:/)],
        ['failed', false, expect.stringMatching(/^service:/)],
      ]);
      expect(audit.body.items[3].detail.refusal).toBe('no claim token');
      expect(JSON.stringify(audit.body)).not.toContain(claimToken);
    });
  },
);
