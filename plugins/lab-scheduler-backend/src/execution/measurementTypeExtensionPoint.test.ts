import { createBackendModule } from '@backstage/backend-plugin-api';
import { TestDatabaseId } from '@backstage/backend-test-utils';
import {
  MeasurementParameterSchema,
  parameterSchema,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import {
  builtInMeasurementTypes,
  MeasurementType,
  QcChecks,
} from '@lab-scheduler/plugin-lab-scheduler-node';
import { measurementTypesExtensionPoint } from '@lab-scheduler/plugin-lab-scheduler-node/alpha';
import { Knex } from 'knex';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createTestDatabases } from '../__testUtils__/databases';
import { validTask } from '../__testUtils__/fixtures';
import {
  createOneTimeTask,
  dueIn,
  newestRunIs,
  pollRuns,
} from '../__testUtils__/oneTimeTasks';
import { asUser, startLabSchedulerBackend } from '../__testUtils__/testBackend';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const API = '/api/lab-scheduler';

const turbidityParameters: MeasurementParameterSchema = {
  parameters: [
    {
      kind: 'number',
      name: 'replicates',
      label: 'Replicates',
      integer: true,
      min: 1,
      max: 10,
      default: 3,
    },
  ],
  qc: [
    {
      kind: 'number',
      name: 'maxNtu',
      label: 'Highest mean turbidity',
      unit: 'NTU',
      min: 0,
      max: 4000,
    },
  ],
};

/** A measurement type as a module would write it: a turbidimeter's replicate readings. */
const turbidity: MeasurementType = {
  definition: {
    type: 'turbidity',
    title: 'Turbidity',
    description: 'Replicate nephelometric readings of a sample',
    parameters: parameterSchema(turbidityParameters),
    parameterSchema: turbidityParameters,
    expectedDurationSeconds: 90,
    units: { turbidity: 'NTU' },
    summaryFields: {
      readings: { label: 'Readings' },
      meanNtu: { label: 'Mean turbidity', unit: 'NTU' },
    },
    trend: { key: 'meanNtu', upperQc: 'maxNtu' },
  },
  simulate(p, random) {
    return {
      units: { turbidity: 'NTU' },
      data: {
        ntu: Array.from({ length: p.replicates }, () => 4 + random()),
      },
    };
  },
  process(raw, p) {
    const ntu = (raw.data as { ntu: number[] }).ntu;
    const meanNtu = ntu.reduce((a, b) => a + b, 0) / ntu.length;
    const checks = new QcChecks();
    checks.max('meanNtu', meanNtu, p.qc?.maxNtu);
    return {
      summary: { readings: ntu.length, meanNtu },
      qc: checks.verdict(),
    };
  },
};

function measurementTypeModule(...types: MeasurementType[]) {
  return createBackendModule({
    pluginId: 'lab-scheduler',
    moduleId: `measurement-types-${types
      .map(t => t.definition.type)
      .join('-')}`,
    register(reg) {
      reg.registerInit({
        deps: { measurementTypes: measurementTypesExtensionPoint },
        async init({ measurementTypes }) {
          for (const t of types) measurementTypes.addMeasurementType(t);
        },
      });
    },
  });
}

const settings = {
  labScheduler: {
    dispatcher: { enabled: true, pollInterval: '500ms' },
    queue: { type: 'inProcess' },
    execution: { rawDataDirectory: mkdtempSync(join(tmpdir(), 'lab-raw-')) },
    // The test catalog's instruments list the built-in types they support; this one is checked elsewhere.
    instruments: { validateWithCatalog: false },
  },
};

const turbidityTask = (parameters: Record<string, unknown>) => ({
  ...validTask,
  name: 'Turbidity of the feed',
  instrumentRef: 'resource:default/turbidimeter-1',
  measurement: { type: 'turbidity', parameters },
  schedule: dueIn(),
});

describe('measurement types from modules (measurementTypesExtensionPoint)', () => {
  const databaseId: TestDatabaseId = 'SQLITE_3';
  let knex: Knex;

  beforeEach(async () => {
    knex = await databases.init(databaseId);
  });

  it('lists, validates, draws, simulates and processes a type a module added', async () => {
    const backend = await startLabSchedulerBackend(knex, settings, [
      measurementTypeModule(turbidity),
    ]);
    try {
      const types = await request(backend.server)
        .get(`${API}/measurement-types`)
        .set('Authorization', asUser());
      expect(types.status).toBe(200);
      expect(types.body.items.map((t: { type: string }) => t.type)).toEqual([
        ...builtInMeasurementTypes.map(t => t.definition.type),
        'turbidity',
      ]);
      // Everything the definition says but its zod schema, which the descriptor stands for.
      const { parameters: _zod, ...described } = turbidity.definition;
      expect(types.body.items.at(-1)).toEqual(described);

      // The module's own parameter rules, per field; nothing stored.
      const refused = await request(backend.server)
        .post(`${API}/tasks`)
        .set('Authorization', asUser())
        .send(turbidityTask({ replicates: 50, qc: { maxNtu: -1 } }));
      expect(refused.status).toBe(400);
      expect(refused.body.error.details).toEqual(
        expect.arrayContaining([
          {
            path: 'measurement.parameters.replicates',
            message: 'must be at most 10',
          },
          {
            path: 'measurement.parameters.qc.maxNtu',
            message: 'must be at least 0 NTU',
          },
        ]),
      );
      const listed = await request(backend.server)
        .get(`${API}/tasks`)
        .set('Authorization', asUser());
      expect(listed.body.items).toEqual([]);

      // The calendar draws a run for the module's expected duration.
      const clashes = await request(backend.server)
        .post(`${API}/calendar/clashes`)
        .set('Authorization', asUser())
        .send({
          instrumentRef: 'resource:default/turbidimeter-1',
          measurementType: 'turbidity',
          schedule: { type: 'cron', expression: '0 9 * * *', timezone: 'UTC' },
        });
      expect(clashes.status).toBe(200);
      expect(clashes.body.durationMs).toBe(90_000);

      const created = await createOneTimeTask(
        backend.server,
        turbidityTask({ qc: { maxNtu: 100 } }),
      );
      // Defaults from the module's schema are stored with the task.
      expect(created.measurement).toEqual({
        type: 'turbidity',
        parameters: { replicates: 3, qc: { maxNtu: 100 } },
      });

      const runs = await pollRuns(
        backend.server,
        created.id,
        newestRunIs('succeeded'),
      );
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({
        status: 'succeeded',
        result: {
          measurementType: 'turbidity',
          driver: 'simulated',
          summary: { readings: 3 },
          qc: {
            status: 'pass',
            checks: [{ name: 'meanNtu', limit: 100, pass: true }],
          },
        },
      });
      expect(runs[0].result.summary.meanNtu).toBeGreaterThanOrEqual(4);
      expect(runs[0].result.summary.meanNtu).toBeLessThan(5);
    } finally {
      await backend.stop();
    }
  });

  it('refuses the type, naming the field, on a backend without the module', async () => {
    const backend = await startLabSchedulerBackend(knex, settings);
    try {
      const refused = await request(backend.server)
        .post(`${API}/tasks`)
        .set('Authorization', asUser())
        .send(turbidityTask({}));
      expect(refused.status).toBe(400);
      expect(refused.body.error.details).toEqual([
        {
          path: 'measurement.type',
          message: expect.stringMatching(
            /^unknown measurement type 'turbidity', expected one of absorbance-spectrum, /,
          ),
        },
      ]);
    } finally {
      await backend.stop();
    }
  });

  it('refuses to start when a module registers a type that already exists', async () => {
    const impostor: MeasurementType = {
      ...turbidity,
      definition: { ...turbidity.definition, type: 'plate-od' },
    };
    await expect(
      startLabSchedulerBackend(knex, settings, [
        measurementTypeModule(impostor),
      ]),
    ).rejects.toThrow(/Measurement type 'plate-od' is registered twice/);
  });
});
