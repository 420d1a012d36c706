import { measurementTypes } from '@lab-scheduler/plugin-lab-scheduler-common';
import { ConfigReader } from '@backstage/config';
import { InstrumentFaultError } from './InstrumentDriver';
import {
  builtInDriverFactories,
  createDriverRegistry,
} from './InstrumentDriverFactory';
import { SimulatedInstrumentDriver } from './SimulatedInstrumentDriver';

const request = (
  type: string,
  parameters: object = {},
  runId = '7a03aa29-ea0b-4587-9d20-81247edc8bff',
) => ({
  runId,
  instrumentRef: 'resource:default/plate-reader-1',
  scheduledFor: '2026-12-01T09:00:00.000Z',
  measurement: {
    type,
    parameters: measurementTypes[type].parameters.parse(parameters) as Record<
      string,
      unknown
    >,
  },
});

describe('SimulatedInstrumentDriver', () => {
  const driver = new SimulatedInstrumentDriver();

  it.each(Object.keys(measurementTypes))(
    'produces %s data deterministically per run',
    async type => {
      const a = await driver.measure(request(type));
      const b = await driver.measure(request(type));
      const other = await driver.measure(
        request(type, {}, '00000000-0000-4000-8000-000000000001'),
      );
      expect(a.data).toEqual(b.data);
      expect(a.data).not.toEqual(other.data);
      expect(a.type).toBe(type);
    },
  );

  it('follows the parameters', async () => {
    const spectrum = await driver.measure(
      request('absorbance-spectrum', { startNm: 250, endNm: 300, stepNm: 5 }),
    );
    expect(spectrum.data.wavelengthNm).toEqual([
      250, 255, 260, 265, 270, 275, 280, 285, 290, 295, 300,
    ]);
    const plate = await driver.measure(
      request('plate-od', { plateFormat: 384 }),
    );
    expect((plate.data.od as number[][]).flat()).toHaveLength(384);
  });

  it('raises instrument faults when switched on', async () => {
    const faulty = new SimulatedInstrumentDriver({ faultRate: 1 });
    await expect(
      faulty.measure(request('mass-reading')),
    ).rejects.toBeInstanceOf(InstrumentFaultError);
  });
});

describe('createDriverRegistry', () => {
  const simulated = new SimulatedInstrumentDriver();
  const entry = (value: object) => new ConfigReader(value);

  it('has no http factory built in: an entry without a driver (http) stops the start, naming the package', () => {
    expect(builtInDriverFactories(simulated).map(f => f.name)).toEqual([
      'simulated',
    ]);
    expect(() =>
      createDriverRegistry({
        factories: builtInDriverFactories(simulated),
        instruments: [
          entry({
            instrumentRef: 'resource:default/plate-reader-1',
            endpoint: 'https://gateway.example.com',
          }),
        ],
      }),
    ).toThrow(
      "Unknown instrument driver 'http' for resource:default/plate-reader-1; known: simulated (the http gateway " +
        'driver comes from @lab-scheduler/plugin-lab-scheduler-backend-module-http-gateway: install it and add it ' +
        "to the backend with backend.add(import('@lab-scheduler/plugin-lab-scheduler-backend-module-http-gateway')))",
    );
  });

  it('names no package for other unknown drivers', () => {
    expect(() =>
      createDriverRegistry({
        factories: [],
        instruments: [
          entry({ instrumentRef: 'resource:default/x', driver: 'serial' }),
        ],
      }),
    ).toThrow(
      /^Unknown instrument driver 'serial' for resource:default\/x; known: none$/,
    );
  });

  it('gives listed instruments the driver their entry names, case-insensitively', () => {
    const registry = createDriverRegistry({
      factories: [
        ...builtInDriverFactories(simulated),
        {
          name: 'http',
          create: () => ({ name: 'http', measure: simulated.measure }),
        },
      ],
      instruments: [
        entry({ instrumentRef: 'resource:default/Plate-Reader-1' }),
        entry({ instrumentRef: 'resource:default/sim-1', driver: 'simulated' }),
      ],
    });
    expect(registry.driverFor('resource:default/plate-reader-1').name).toBe(
      'http',
    );
    expect(registry.driverFor('resource:default/sim-1')).toBe(simulated);
    expect(registry.has('resource:default/other')).toBe(false);
  });
});
