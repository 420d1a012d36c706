import { Config, ConfigReader } from '@backstage/config';
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
 * The package of the `http` driver (an HTTP instrument gateway), the default `driver` of an instrument
 * entry. Not built in: the backend gets it from that backend module, the Lambda passes its factory.
 */
const HTTP_GATEWAY_DRIVER_PACKAGE =
  '@lab-scheduler/plugin-lab-scheduler-backend-module-http-gateway';

/**
 * The built-in driver factories: `simulated` only. The `http` gateway driver comes from
 * `@lab-scheduler/plugin-lab-scheduler-backend-module-http-gateway` (`httpGatewayDriverFactory`).
 *
 * @public
 */
export function builtInDriverFactories(
  simulated: SimulatedInstrumentDriver,
): InstrumentDriverFactory[] {
  return [{ name: 'simulated', create: () => simulated }];
}

/**
 * The registry of a backend or a Lambda: each listed instrument gets a driver from the factory its
 * entry names (default `http`, which must then be among `factories`); every other instrument gets
 * `fallback` (the simulation, when allowed) or is refused. An entry naming no factory throws, naming
 * the package to install when that is the `http` gateway driver.
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
      const hint =
        name === 'http'
          ? ` (the http gateway driver comes from ${HTTP_GATEWAY_DRIVER_PACKAGE}: install it and add it to the ` +
            `backend with backend.add(import('${HTTP_GATEWAY_DRIVER_PACKAGE}')))`
          : '';
      throw new Error(
        `Unknown instrument driver '${name}' for ${instrumentRef}; known: ${
          [...byName.keys()].join(', ') || 'none'
        }${hint}`,
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
