import { Config, ConfigReader } from '@backstage/config';
import { HttpInstrumentDriver } from './HttpInstrumentDriver';
import { DriverRegistry, InstrumentDriver } from './InstrumentDriver';
import { SimulatedInstrumentDriver } from './SimulatedInstrumentDriver';

/**
 * Makes the drivers of one kind of instrument connection. An instrument selects it by name in
 * `labScheduler.execution.instruments[].driver` (backend) or `INSTRUMENT_GATEWAYS[].driver` (Lambda).
 *
 * @public
 */
export interface InstrumentDriverFactory {
  /** The `driver` value that selects this factory, e.g. `http`. */
  readonly name: string;
  /** A driver for one instrument, from that instrument's entry (its other keys are the factory's). */
  create(options: { instrumentRef: string; config: Config }): InstrumentDriver;
}

/**
 * The HTTP instrument gateway: keys `endpoint` (required), `token`, `timeoutMs`, `maxResponseBytes`.
 * The contract is `openapi/instrument-gateway.yaml` in this package.
 *
 * @public
 */
export const httpGatewayDriverFactory: InstrumentDriverFactory = {
  name: 'http',
  create: ({ config }) =>
    new HttpInstrumentDriver({
      endpoint: config.getString('endpoint'),
      token: config.getOptionalString('token'),
      timeoutMs: config.getOptionalNumber('timeoutMs'),
      maxResponseBytes: config.getOptionalNumber('maxResponseBytes'),
    }),
};

/** The built-in driver factories: `http` (gateway) and `simulated`. @public */
export function builtInDriverFactories(
  simulated: SimulatedInstrumentDriver,
): InstrumentDriverFactory[] {
  return [
    httpGatewayDriverFactory,
    { name: 'simulated', create: () => simulated },
  ];
}

/**
 * The registry of a backend or a Lambda: each listed instrument gets a driver from the factory its
 * entry names (default `http`); every other instrument gets `fallback` (the simulation, when allowed)
 * or is refused.
 *
 * @public
 */
export function createDriverRegistry(options: {
  factories: InstrumentDriverFactory[];
  instruments: Config[];
  fallback?: InstrumentDriver;
}): DriverRegistry {
  const byName = new Map<string, InstrumentDriverFactory>();
  for (const factory of options.factories) {
    if (byName.has(factory.name)) {
      throw new Error(
        `Two instrument driver factories are named '${factory.name}'`,
      );
    }
    byName.set(factory.name, factory);
  }
  const byInstrument = new Map<string, InstrumentDriver>();
  for (const instrument of options.instruments) {
    const instrumentRef = instrument.getString('instrumentRef');
    const name = instrument.getOptionalString('driver') ?? 'http';
    const factory = byName.get(name);
    if (!factory) {
      throw new Error(
        `Unknown instrument driver '${name}' for ${instrumentRef}; known: ${[
          ...byName.keys(),
        ].join(', ')}`,
      );
    }
    byInstrument.set(
      instrumentRef.toLocaleLowerCase('en-US'),
      factory.create({ instrumentRef, config: instrument }),
    );
  }
  return new DriverRegistry(options.fallback, byInstrument);
}

/**
 * Instrument entries given as JSON (the Lambda's INSTRUMENT_GATEWAYS), for createDriverRegistry.
 *
 * @public
 */
export function instrumentConfigsFromJson(
  entries: unknown,
  context: string,
): Config[] {
  if (!Array.isArray(entries)) {
    throw new Error(`${context} must be a JSON array of instrument entries`);
  }
  return entries.map(
    (entry, index) => new ConfigReader(entry, `${context}[${index}]`),
  );
}
