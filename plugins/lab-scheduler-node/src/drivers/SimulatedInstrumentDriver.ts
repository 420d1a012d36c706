import {
  InstrumentDriver,
  InstrumentFaultError,
  MeasurementRequest,
  RawMeasurement,
} from './InstrumentDriver';
import { builtInMeasurementTypes } from '../measurementTypes/builtIn';
import { MeasurementTypeRegistry } from '../measurementTypes/MeasurementType';
import { seededRandom, seedOf } from './random';

export interface SimulatedDriverOptions {
  /** Probability (0–1) that a measurement fails with an instrument fault. Default 0. */
  faultRate?: number;
  /** Simulated acquisition time in ms (the real durations are compressed). Default 0. */
  delayMs?: number;
  /** Whose `simulate` makes the data. Default: the built-in measurement types. */
  measurementTypes?: MeasurementTypeRegistry;
}

/**
 * Realistic simulated instruments for the demo and tests: each measurement type's own `simulate`. Data is deterministic for a run (seeded by
 * its id); faults can be switched on with `faultRate`.
 */
export class SimulatedInstrumentDriver implements InstrumentDriver {
  readonly name = 'simulated';

  private readonly measurementTypes: MeasurementTypeRegistry;

  constructor(private readonly options: SimulatedDriverOptions = {}) {
    this.measurementTypes =
      options.measurementTypes ??
      new MeasurementTypeRegistry(builtInMeasurementTypes);
  }

  async measure(
    request: MeasurementRequest,
    options: { signal?: AbortSignal } = {},
  ): Promise<RawMeasurement> {
    const random = seededRandom(seedOf(request.runId));
    if (this.options.delayMs) {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, this.options.delayMs);
        options.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new InstrumentFaultError('Measurement aborted'));
        });
      });
    }
    // Faults draw from their own stream so that they do not change the data of healthy runs.
    const faultRandom = seededRandom(
      seedOf(`${request.runId}:fault:${Date.now()}`),
    );
    if (
      (this.options.faultRate ?? 0) > 0 &&
      faultRandom() < this.options.faultRate!
    ) {
      throw new InstrumentFaultError(
        `Simulated instrument fault on ${request.instrumentRef}: detector saturated`,
      );
    }
    const measurementType = this.measurementTypes.measurementType(
      request.measurement.type,
    );
    if (!measurementType.simulate) {
      throw new Error(
        `The simulated driver cannot measure '${request.measurement.type}': its module gives no simulation`,
      );
    }
    const { units, data } = measurementType.simulate(
      request.measurement.parameters as Record<string, any>,
      random,
    );
    return {
      type: request.measurement.type,
      instrumentRef: request.instrumentRef,
      acquiredAt: new Date().toISOString(),
      units,
      data,
    };
  }
}
