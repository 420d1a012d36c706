import { createServiceFactory } from '@backstage/backend-plugin-api';
import { TestDatabaseId } from '@backstage/backend-test-utils';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import request from 'supertest';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { validTask } from '../__testUtils__/fixtures';
import {
  asService,
  asUser,
  startLabSchedulerBackend,
} from '../__testUtils__/testBackend';
import { RUN_UPDATES_CHANNEL } from './RunUpdateSignals';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const API = '/api/lab-scheduler';
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/*
 * The plugin as the backend runs it: an executor's 'started' report (POST /runs/:id/events) sends the
 * run-update signal, so open pages show the run running without waiting for their next poll. The
 * signals service is the one boundary replaced: it records what the plugin publishes, as the signals
 * backend would receive it.
 */
describe.each(databaseIds)(
  'run-update signals on %s',
  (databaseId: TestDatabaseId) => {
    it("signals when an executor reports a run's start", async () => {
      const published: { channel: string }[] = [];
      const knex = await databases.init(databaseId);
      const backend = await startLabSchedulerBackend(
        knex,
        {
          labScheduler: {
            // No dispatcher: the run stays pending until the test reports it started, as an
            // external executor would.
            dispatcher: { enabled: false },
            execution: { acceptReportsWithoutClaimToken: true },
          },
        },
        [
          createServiceFactory({
            service: signalsServiceRef,
            deps: {},
            factory: () => ({
              publish: async (signal: any) => {
                published.push(signal);
              },
            }),
          }),
        ],
      );
      try {
        const created = await request(backend.server)
          .post(`${API}/tasks`)
          .set('Authorization', asUser())
          .send({
            ...validTask,
            schedule: {
              type: 'once',
              at: new Date(Date.now() + 3_600_000).toISOString(),
            },
          });
        const run = await request(backend.server)
          .post(`${API}/tasks/${created.body.id}/trigger`)
          .set('Authorization', asUser());
        expect(run.status).toBe(202);
        // The creation's and the trigger's signals (coalesced, at most one per 500 ms) are out.
        await sleep(1200);
        const before = published.length;
        expect(before).toBeGreaterThan(0);
        const started = await request(backend.server)
          .post(`${API}/runs/${run.body.id}/events`)
          .set('Authorization', asService())
          .send({ type: 'started', attempt: 1 });
        expect(started.body).toMatchObject({
          proceed: true,
          status: 'running',
        });
        const deadline = Date.now() + 5_000;
        while (published.length === before && Date.now() < deadline) {
          await sleep(50);
        }
        expect(published.slice(before)).toEqual([
          expect.objectContaining({ channel: RUN_UPDATES_CHANNEL }),
        ]);
      } finally {
        await backend.stop();
      }
    });
  },
);
