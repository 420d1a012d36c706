import { Config } from '@backstage/config';
import {
  builtInDriverFactories,
  createDriverRegistry,
  DriverRegistry,
  InstrumentDriverFactory,
  MeasurementTypeRegistry,
  SimulatedInstrumentDriver,
} from '@lab-scheduler/plugin-lab-scheduler-node';
import { LAB_SCHEDULER_DEFAULTS } from '../config/defaults';
import { readOptionalDurationMs } from '../config/durations';

/**
 * Whether instruments without a driver of their own are measured by the simulated driver
 * (`labScheduler.execution.simulated.allowed`). Off unless configured: fake results must never pass for
 * real ones in a portal that forgot to configure a driver.
 */
export function simulationAllowed(config?: Config): boolean {
  return config?.getOptionalBoolean('simulated.allowed') ?? false;
}

/**
 * The instruments `labScheduler.execution.instruments` gives a driver. With the SQS queue the Lambda
 * measures (INSTRUMENT_GATEWAYS); the backend's list then tells which instruments tasks may use.
 */
export function instrumentsWithDriver(config?: Config): Set<string> {
  return new Set(
    (config?.getOptionalConfigArray('instruments') ?? []).map(instrument =>
      instrument.getString('instrumentRef').toLocaleLowerCase('en-US'),
    ),
  );
}

/** Whether a task on the instrument can be measured: it has a driver, or simulation is allowed. */
export function driverCheckFromConfig(
  config?: Config,
): (instrumentRef: string) => boolean {
  const allowed = simulationAllowed(config);
  const listed = instrumentsWithDriver(config);
  return instrumentRef =>
    allowed || listed.has(instrumentRef.toLocaleLowerCase('en-US'));
}

/**
 * Instrument drivers from `labScheduler.execution`: each instrument listed under `instruments` gets a
 * driver from the factory its `driver` names (built in: `simulated`; the others from modules through
 * instrumentDriversExtensionPoint, `http` from @lab-scheduler/plugin-lab-scheduler-backend-module-http-gateway),
 * and every other instrument the simulated driver only when `simulated.allowed` is true. An entry naming
 * a driver no module added stops the start.
 */
export function driversFromConfig(
  config?: Config,
  moduleFactories: InstrumentDriverFactory[] = [],
  measurementTypes?: MeasurementTypeRegistry,
): DriverRegistry {
  const defaults = LAB_SCHEDULER_DEFAULTS.execution;
  const simulated = new SimulatedInstrumentDriver({
    measurementTypes,
    faultRate:
      config?.getOptionalNumber('simulated.faultRate') ??
      defaults.simulatedFaultRate,
    // Relative to labScheduler.execution (the config given here).
    delayMs:
      (config &&
        readOptionalDurationMs(config, 'simulated.delay', {
          deprecatedKey: 'simulated.delayMs',
        })) ??
      defaults.simulatedDelayMs,
  });
  return createDriverRegistry({
    factories: [...builtInDriverFactories(simulated), ...moduleFactories],
    instruments: config?.getOptionalConfigArray('instruments') ?? [],
    fallback: simulationAllowed(config) ? simulated : undefined,
  });
}
