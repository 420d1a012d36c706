import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measurementTypes } from '@lab-scheduler/plugin-lab-scheduler-common';
import { DriverRegistry } from '../drivers/InstrumentDriver';
import { SimulatedInstrumentDriver } from '../drivers/SimulatedInstrumentDriver';
import {
  MeasurementExecutor,
  MeasurementFailedError,
} from '../MeasurementExecutor';
import { LocalRawDataStore } from '../storage/RawDataStore';
import { builtInMeasurementTypes } from './builtIn';
import {
  createMeasurementTypeRegistry,
  MeasurementType,
  MeasurementTypeRegistry,
  UnknownMeasurementTypeError,
} from './MeasurementType';

const logger = { info() {}, warn() {}, error() {} };

const message = (type: string) => ({
  schemaVersion: 1 as const,
  runId: '01a22400-0000-7000-8000-000000000009',
  taskId: '7a03aa29-ea0b-4587-9d20-81247edc8bff',
  taskName: 'Feed turbidity',
  instrumentRef: 'resource:default/turbidimeter-1',
  owner: 'group:default/lab-ops',
  scheduledFor: '2026-12-01T09:00:00.000Z',
  attempt: 1,
  claimToken: 'tok',
  measurement: { type, parameters: { qc: {} } },
});

/** A type with processing but no simulation: only a real driver can measure it. */
const countsOnly: MeasurementType = {
  definition: {
    ...measurementTypes['mass-reading'],
    type: 'colony-count',
    title: 'Colony count',
  },
  process: raw => ({
    summary: { colonies: (raw.data as { colonies: number }).colonies },
    qc: { status: 'not_checked', checks: [] },
  }),
};

function executorWith(registry: MeasurementTypeRegistry) {
  const failures: string[] = [];
  const executor = new MeasurementExecutor({
    drivers: new DriverRegistry(
      new SimulatedInstrumentDriver({ measurementTypes: registry }),
    ),
    measurementTypes: registry,
    rawData: new LocalRawDataStore(mkdtempSync(join(tmpdir(), 'raw-'))),
    reporter: {
      start: async () => ({ proceed: true, status: 'running' }),
      succeed: async () => {},
      fail: async (_id, error, how) => {
        failures.push(`${error} retrying=${how.retrying}`);
      },
    },
    logger,
  });
  return { executor, failures };
}

describe('MeasurementTypeRegistry', () => {
  it('holds the built-in types in order and looks them up by name only', () => {
    const registry = createMeasurementTypeRegistry(builtInMeasurementTypes);
    expect(registry.list().map(d => d.type)).toEqual([
      'absorbance-spectrum',
      'plate-od',
      'ph-timeseries',
      'qpcr-amplification',
      'mass-reading',
    ]);
    expect(registry.get('plate-od')?.expectedDurationSeconds).toBe(300);
    // No prototype lookups: these are not types.
    expect(registry.get('constructor')).toBeUndefined();
    expect(registry.get('__proto__')).toBeUndefined();
  });

  it('refuses a module type that reuses a name', () => {
    expect(() =>
      createMeasurementTypeRegistry(builtInMeasurementTypes, [
        { ...countsOnly, definition: measurementTypes['plate-od'] },
      ]),
    ).toThrow("Measurement type 'plate-od' is registered twice");
  });

  it('fails a run of a type this executor does not run, finally (no retry)', async () => {
    const { executor, failures } = executorWith(
      createMeasurementTypeRegistry(builtInMeasurementTypes),
    );
    const error = await executor
      .execute(message('turbidity'), { receiveCount: 1, maxReceiveCount: 3 })
      .catch(e => e);
    expect(error).toBeInstanceOf(MeasurementFailedError);
    expect(error.retrying).toBe(false);
    expect(failures).toEqual([
      expect.stringMatching(
        /^UnknownMeasurementTypeError: Measurement type 'turbidity' is not registered here .* retrying=false$/,
      ),
    ]);
    expect(new UnknownMeasurementTypeError('x', []).name).toBe(
      'UnknownMeasurementTypeError',
    );
  });

  it('the simulated driver refuses a type whose module gives no simulation', async () => {
    const { executor, failures } = executorWith(
      createMeasurementTypeRegistry(builtInMeasurementTypes, [countsOnly]),
    );
    await expect(
      executor.execute(message('colony-count'), {
        receiveCount: 1,
        maxReceiveCount: 3,
      }),
    ).rejects.toThrow(MeasurementFailedError);
    expect(failures).toEqual([
      expect.stringContaining(
        "The simulated driver cannot measure 'colony-count': its module gives no simulation",
      ),
    ]);
  });
});
