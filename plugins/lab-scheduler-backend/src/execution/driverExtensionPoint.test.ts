import { createBackendModule } from '@backstage/backend-plugin-api';
import { TestDatabaseId } from '@backstage/backend-test-utils';
import {
  InstrumentDriver,
  SimulatedInstrumentDriver,
} from '@lab-scheduler/plugin-lab-scheduler-node';
import { instrumentDriversExtensionPoint } from '@lab-scheduler/plugin-lab-scheduler-node/alpha';
import { Knex } from 'knex';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createTestDatabases } from '../__testUtils__/databases';
import { validTask } from '../__testUtils__/fixtures';
import { asUser, startLabSchedulerBackend } from '../__testUtils__/testBackend';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const API = '/api/lab-scheduler';
const PLATE_READER = 'resource:default/plate-reader-1';
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** A module adding a driver of its own: measures like the simulation, under its own name. */
function benchDriverModule(created: Array<{ ref: string; bench: string }>) {
  return createBackendModule({
    pluginId: 'lab-scheduler',
    moduleId: 'bench-driver',
    register(reg) {
      reg.registerInit({
        deps: { drivers: instrumentDriversExtensionPoint },
        async init({ drivers }) {
          drivers.addDriverFactory({
            name: 'bench',
            create: ({ instrumentRef, config }): InstrumentDriver => {
              created.push({
                ref: instrumentRef,
                bench: config.getString('bench'),
              });
              const simulated = new SimulatedInstrumentDriver();
              return {
                name: 'bench',
                measure: (req, options) => simulated.measure(req, options),
              };
            },
          });
        },
      });
    },
  });
}

function settings(driver: string) {
  return {
    labScheduler: {
      dispatcher: { enabled: true, pollInterval: '500ms' },
      queue: { type: 'inProcess' },
      execution: {
        rawDataDirectory: mkdtempSync(join(tmpdir(), 'lab-raw-')),
        simulated: { allowed: false },
        instruments: [{ instrumentRef: PLATE_READER, driver, bench: 'B2' }],
      },
    },
  };
}

describe('instrument drivers from modules (instrumentDriversExtensionPoint)', () => {
  const databaseId: TestDatabaseId = 'SQLITE_3';
  let knex: Knex;

  beforeEach(async () => {
    knex = await databases.init(databaseId);
  });

  it('measures an instrument whose config names a driver a module added', async () => {
    const created: Array<{ ref: string; bench: string }> = [];
    const backend = await startLabSchedulerBackend(knex, settings('bench'), [
      benchDriverModule(created),
    ]);
    try {
      expect(created).toEqual([{ ref: PLATE_READER, bench: 'B2' }]);
      const task = await request(backend.server)
        .post(`${API}/tasks`)
        .set('Authorization', asUser())
        .send({
          ...validTask,
          schedule: {
            type: 'once',
            at: new Date(Date.now() + 1000).toISOString(),
          },
        });
      expect(task.status).toBe(201);
      let runs: Array<{ status: string; result?: { driver: string } }> = [];
      for (let i = 0; i < 100 && runs[0]?.status !== 'succeeded'; i++) {
        await sleep(100);
        runs = (
          await request(backend.server)
            .get(`${API}/tasks/${task.body.id}/runs`)
            .set('Authorization', asUser())
        ).body.items;
      }
      expect(runs).toMatchObject([
        { status: 'succeeded', result: { driver: 'bench' } },
      ]);
    } finally {
      await backend.stop();
    }
  });

  it('refuses to start when an instrument names a driver no module added', async () => {
    await expect(
      startLabSchedulerBackend(knex, settings('bench')),
    ).rejects.toThrow(
      /Unknown instrument driver 'bench'.*known: http, simulated/,
    );
  });
});
