import { Config } from '@backstage/config';
import {
  DriverRegistry,
  HttpInstrumentDriver,
  InstrumentDriver,
  SimulatedInstrumentDriver,
} from '@lab-scheduler/plugin-lab-scheduler-node';

/**
 * Instrument drivers from `labScheduler.execution`: the simulated driver by default, and HTTP gateway
 * drivers for the instruments listed under `instruments`.
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
  return new DriverRegistry(simulated, byInstrument);
}
