import { createBackendModule } from '@backstage/backend-plugin-api';
import { TestDatabaseId } from '@backstage/backend-test-utils';
import {
  InstrumentDriver,
  SimulatedInstrumentDriver,
} from '@lab-scheduler/plugin-lab-scheduler-node';
import { instrumentDriversExtensionPoint } from '@lab-scheduler/plugin-lab-scheduler-node/alpha';
import httpGatewayModule from '@lab-scheduler/plugin-lab-scheduler-backend-module-http-gateway';
import { Knex } from 'knex';
import { mkdtempSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabases } from '../__testUtils__/databases';
import {
  createOneTimeTask,
  newestRunIs,
  pollRuns,
} from '../__testUtils__/oneTimeTasks';
import { startLabSchedulerBackend } from '../__testUtils__/testBackend';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const PLATE_READER = 'resource:default/plate-reader-1';

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

function settings(instrument: object) {
  return {
    labScheduler: {
      dispatcher: { enabled: true, pollInterval: '500ms' },
      queue: { type: 'inProcess' },
      execution: {
        rawDataDirectory: mkdtempSync(join(tmpdir(), 'lab-raw-')),
        simulated: { allowed: false },
        instruments: [{ instrumentRef: PLATE_READER, ...instrument }],
      },
    },
  };
}

/** An instrument gateway answering every measurement with the simulation's data; counts the requests. */
async function startGateway() {
  const simulated = new SimulatedInstrumentDriver();
  const requests: Array<{ auth?: string; body: any }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', c => (body += c));
    req.on('end', async () => {
      requests.push({
        auth: req.headers.authorization,
        body: JSON.parse(body),
      });
      const raw = await simulated.measure(JSON.parse(body));
      res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ units: raw.units, data: raw.data }));
    });
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise(r => server.close(r)),
  };
}

/** Creates a one-time task on the plate reader due in a second and waits for its run to end. */
async function runOnce(backend: { server: Server }) {
  const task = await createOneTimeTask(backend.server);
  return pollRuns(backend.server, task.id, newestRunIs('succeeded', 'failed'));
}

describe('instrument drivers from modules (instrumentDriversExtensionPoint)', () => {
  const databaseId: TestDatabaseId = 'SQLITE_3';
  let knex: Knex;

  beforeEach(async () => {
    knex = await databases.init(databaseId);
  });

  it('measures an instrument whose config names a driver a module added', async () => {
    const created: Array<{ ref: string; bench: string }> = [];
    const backend = await startLabSchedulerBackend(
      knex,
      settings({ driver: 'bench', bench: 'B2' }),
      [benchDriverModule(created)],
    );
    try {
      expect(created).toEqual([{ ref: PLATE_READER, bench: 'B2' }]);
      expect(await runOnce(backend)).toMatchObject([
        { status: 'succeeded', result: { driver: 'bench' } },
      ]);
    } finally {
      await backend.stop();
    }
  });

  it('measures through the http gateway driver the http-gateway module adds', async () => {
    const gateway = await startGateway();
    // No `driver` key: http is the default.
    const backend = await startLabSchedulerBackend(
      knex,
      settings({ endpoint: gateway.endpoint, token: 'gw-secret' }),
      [httpGatewayModule],
    );
    try {
      expect(await runOnce(backend)).toMatchObject([
        { status: 'succeeded', result: { driver: 'http' } },
      ]);
      expect(gateway.requests).toMatchObject([
        {
          auth: 'Bearer gw-secret',
          body: {
            instrumentRef: PLATE_READER,
            measurement: { type: 'absorbance-spectrum' },
          },
        },
      ]);
    } finally {
      await backend.stop();
      await gateway.close();
    }
  });

  it('refuses to start when an instrument names a driver no module added', async () => {
    await expect(
      startLabSchedulerBackend(knex, settings({ driver: 'bench' })),
    ).rejects.toThrow(/Unknown instrument driver 'bench'.*known: simulated$/);
  });

  it('refuses to start on an http instrument without the http-gateway module, naming the package', async () => {
    await expect(
      startLabSchedulerBackend(
        knex,
        settings({ endpoint: 'http://127.0.0.1:1' }),
      ),
    ).rejects.toThrow(
      /Unknown instrument driver 'http'.*known: simulated \(the http gateway driver comes from @lab-scheduler\/plugin-lab-scheduler-backend-module-http-gateway: install it/,
    );
  });
});
