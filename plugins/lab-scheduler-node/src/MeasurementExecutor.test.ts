import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DriverRegistry } from './drivers/InstrumentDriver';
import { SimulatedInstrumentDriver } from './drivers/SimulatedInstrumentDriver';
import { MeasurementExecutor } from './MeasurementExecutor';
import { RunReporter } from './reporting/RunReporter';
import { LocalRawDataStore } from './storage/RawDataStore';

const message = {
  schemaVersion: 1 as const,
  runId: '01a22400-0000-7000-8000-000000000002',
  taskId: '7a03aa29-ea0b-4587-9d20-81247edc8bff',
  taskName: 'Blank check',
  instrumentRef: 'resource:default/plate-reader-1',
  owner: 'group:default/lab-ops',
  scheduledFor: '2026-12-01T09:00:00.000Z',
  attempt: 1,
  claimToken: 'tok',
  measurement: { type: 'absorbance-spectrum', parameters: {} },
};

/** Records what the executor reports. */
function recordingReporter() {
  const events: string[] = [];
  const reporter: RunReporter = {
    start: async () => {
      events.push('started');
      return { proceed: true, status: 'running' };
    },
    succeed: async () => {
      events.push('succeeded');
    },
    fail: async (_id, error) => {
      events.push(`failed: ${error}`);
    },
  };
  return { reporter, events };
}

describe('MeasurementExecutor raw data', () => {
  const logger = { info() {}, warn() {}, error() {} };

  it('retries the upload while the store is unavailable, and measures once', async () => {
    const local = new LocalRawDataStore(mkdtempSync(join(tmpdir(), 'raw-')));
    let failures = 2;
    let measurements = 0;
    const simulated = new SimulatedInstrumentDriver();
    const counting = Object.assign(Object.create(simulated), {
      measure: (...args: Parameters<SimulatedInstrumentDriver['measure']>) => {
        measurements++;
        return simulated.measure(...args);
      },
    });
    const { reporter, events } = recordingReporter();
    const executor = new MeasurementExecutor({
      drivers: new DriverRegistry(counting),
      rawData: {
        put: async (key, body) => {
          if (failures-- > 0) throw new Error('S3 unavailable');
          return local.put(key, body);
        },
      } as LocalRawDataStore,
      reporter,
      logger,
    });
    const outcome = await executor.execute(message, {
      receiveCount: 1,
      maxReceiveCount: 3,
    });
    expect(outcome.outcome).toBe('succeeded');
    expect(events).toEqual(['started', 'succeeded']);
    expect(measurements).toBe(1);
  });

  it('fails the run when the store stays unavailable past storageRetryMs', async () => {
    const { reporter, events } = recordingReporter();
    const executor = new MeasurementExecutor({
      drivers: new DriverRegistry(new SimulatedInstrumentDriver()),
      rawData: {
        put: async () => {
          throw new Error('S3 unavailable');
        },
      } as unknown as LocalRawDataStore,
      reporter,
      logger,
      storageRetryMs: 600,
    });
    await expect(
      executor.execute(message, { receiveCount: 1, maxReceiveCount: 3 }),
    ).rejects.toThrow(/S3 unavailable/);
    expect(events[events.length - 1]).toMatch(/^failed: .*S3 unavailable/);
  });
});

describe('MeasurementExecutor without a driver for the instrument', () => {
  const logger = { info() {}, warn() {}, error() {} };

  it('fails the run for good, naming the instrument and the setting, instead of simulating it', async () => {
    const { reporter, events } = recordingReporter();
    const executor = new MeasurementExecutor({
      // Simulation not allowed: no fallback driver, and only another instrument has one.
      drivers: new DriverRegistry(
        undefined,
        new Map([
          ['resource:default/ph-meter-1', new SimulatedInstrumentDriver()],
        ]),
      ),
      rawData: new LocalRawDataStore(mkdtempSync(join(tmpdir(), 'raw-'))),
      reporter,
      logger,
    });
    const failure = executor.execute(message, {
      receiveCount: 1,
      maxReceiveCount: 3,
    });
    await expect(failure).rejects.toMatchObject({ retrying: false });
    expect(events).toEqual([
      expect.stringMatching(/^started$/),
      expect.stringMatching(
        /^failed: NoInstrumentDriverError: .*resource:default\/plate-reader-1.*simulated\.allowed/,
      ),
    ]);
  });

  it('still measures instruments that have a driver of their own', async () => {
    const { reporter, events } = recordingReporter();
    const executor = new MeasurementExecutor({
      drivers: new DriverRegistry(
        undefined,
        new Map([[message.instrumentRef, new SimulatedInstrumentDriver()]]),
      ),
      rawData: new LocalRawDataStore(mkdtempSync(join(tmpdir(), 'raw-'))),
      reporter,
      logger,
    });
    await executor.execute(message, { receiveCount: 1, maxReceiveCount: 3 });
    expect(events).toEqual(['started', 'succeeded']);
  });
});
