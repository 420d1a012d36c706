import { Config } from '@backstage/config';
import {
  DriverRegistry,
  HttpInstrumentDriver,
  InstrumentDriver,
  SimulatedInstrumentDriver,
} from '@lab-scheduler/plugin-lab-scheduler-node';

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
 * Instrument drivers from `labScheduler.execution`: HTTP gateway drivers (or the simulation) for the
 * instruments listed under `instruments`, and the simulated driver for every other instrument only when
 * `simulated.allowed` is true.
 */
export function driversFromConfig(config?: Config): DriverRegistry {
  const simulated = new SimulatedInstrumentDriver({
    faultRate: config?.getOptionalNumber('simulated.faultRate') ?? 0,
    delayMs: config?.getOptionalNumber('simulated.delayMs') ?? 0,
  });
  const byInstrument = new Map<string, InstrumentDriver>();
  for (const instrument of config?.getOptionalConfigArray('instruments') ??
    []) {
    const ref = instrument
      .getString('instrumentRef')
      .toLocaleLowerCase('en-US');
    const driver = instrument.getOptionalString('driver') ?? 'http';
    if (driver === 'simulated') {
      byInstrument.set(ref, simulated);
    } else if (driver === 'http') {
      byInstrument.set(
        ref,
        new HttpInstrumentDriver({
          endpoint: instrument.getString('endpoint'),
          token: instrument.getOptionalString('token'),
          timeoutMs: instrument.getOptionalNumber('timeoutMs'),
          maxResponseBytes: instrument.getOptionalNumber('maxResponseBytes'),
        }),
      );
    } else {
      throw new Error(
        `labScheduler.execution.instruments: unknown driver '${driver}' for ${ref}`,
      );
    }
  }
  return new DriverRegistry(
    simulationAllowed(config) ? simulated : undefined,
    byInstrument,
  );
}
