import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  measurementTypes,
  RunMessage,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import {
  MeasurementType,
  QcChecks,
} from '@lab-scheduler/plugin-lab-scheduler-node';
import { settingsFromEnv } from './config';
import { executorFor } from './handler';
import { LAMBDA_MODULES } from './modules';

/** A measurement type a backend module adds; the Lambda must run the same object to measure it. */
const colonyCount: MeasurementType = {
  definition: {
    ...measurementTypes['mass-reading'],
    type: 'colony-count',
    title: 'Colony count',
  },
  simulate: (_p, random) => ({
    units: { colonies: 'CFU' },
    data: { colonies: 100 + Math.floor(random() * 50) },
  }),
  process(raw, p) {
    const colonies = (raw.data as { colonies: number }).colonies;
    const checks = new QcChecks();
    checks.max('colonies', colonies, p.qc?.maxColonies);
    return { summary: { colonies }, qc: checks.verdict() };
  },
};

const env = {
  LAB_SCHEDULER_API_URL: 'http://127.0.0.1:1/api/lab-scheduler',
  LAB_SCHEDULER_SERVICE_TOKEN: 'token',
  RAW_DATA_DIRECTORY: mkdtempSync(join(tmpdir(), 'raw-')),
  SIMULATED_INSTRUMENTS_ALLOWED: 'true',
};

const message: RunMessage = {
  schemaVersion: 1,
  runId: '01a22400-0000-7000-8000-0000000000c1',
  taskId: '7a03aa29-ea0b-4587-9d20-81247edc8bff',
  taskName: 'Plate colonies',
  instrumentRef: 'resource:default/colony-counter-1',
  owner: 'group:default/lab-ops',
  scheduledFor: '2026-12-01T09:00:00.000Z',
  attempt: 1,
  claimToken: 'tok',
  measurement: {
    type: 'colony-count',
    parameters: { qc: { maxColonies: 500 } },
  },
};

async function execute(modules = LAMBDA_MODULES) {
  const settings = await settingsFromEnv(env, modules);
  const reports: string[] = [];
  // The handler's own executor, with a reporter that records instead of calling the backend.
  const executor = executorFor(settings, {
    start: async () => ({ proceed: true, status: 'running' }),
    succeed: async (_id, result) => {
      reports.push(
        `succeeded ${JSON.stringify(result.summary)} ${result.qc.status}`,
      );
    },
    fail: async (_id, error, how) => {
      reports.push(`failed ${error} retrying=${how.retrying}`);
    },
  });
  await executor
    .execute(message, { receiveCount: 1, maxReceiveCount: 3 })
    .catch(() => undefined);
  return { settings, reports };
}

describe('the Lambda runs the modules it lists (LAMBDA_MODULES)', () => {
  it('measures, simulates and processes a measurement type a module adds', async () => {
    const { settings, reports } = await execute({
      ...LAMBDA_MODULES,
      measurementTypes: [colonyCount],
    });
    expect(settings.measurementTypes.get('colony-count')?.title).toBe(
      'Colony count',
    );
    expect(reports).toEqual([
      expect.stringMatching(/^succeeded \{"colonies":1[0-4]\d\} pass$/),
    ]);
  });

  it('fails a run of a type it does not list, for good, naming the type', async () => {
    const { reports } = await execute();
    expect(reports).toEqual([
      expect.stringMatching(
        /^failed UnknownMeasurementTypeError: Measurement type 'colony-count' is not registered here .* retrying=false$/,
      ),
    ]);
  });

  it("lists the http gateway's driver factory", () => {
    expect(LAMBDA_MODULES.driverFactories.map(f => f.name)).toEqual(['http']);
  });
});
