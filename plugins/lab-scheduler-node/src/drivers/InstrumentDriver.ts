import type { Measurement } from '@lab-scheduler/plugin-lab-scheduler-common';

/** What a driver is asked to measure. */
export interface MeasurementRequest {
  runId: string;
  instrumentRef: string;
  measurement: Measurement;
  scheduledFor: string;
}

/** Raw data as an instrument produced it, before processing. */
export interface RawMeasurement {
  type: string;
  instrumentRef: string;
  acquiredAt: string;
  units: Record<string, string>;
  data: Record<string, unknown>;
}

/** Talks to one kind of instrument (or a simulation of it). */
export interface InstrumentDriver {
  readonly name: string;
  measure(
    request: MeasurementRequest,
    options?: { signal?: AbortSignal },
  ): Promise<RawMeasurement>;
}

/**
 * The instrument failed (lid open, lamp fault, gateway unreachable…). Retrying may help, so the run is
 * retried by the queue before it is given up.
 */
export class InstrumentFaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InstrumentFaultError';
  }
}

/** Chooses the driver for a run: per-instrument overrides first, then the default. */
export class DriverRegistry {
  constructor(
    private readonly defaultDriver: InstrumentDriver,
    private readonly byInstrument: Map<string, InstrumentDriver> = new Map(),
  ) {}

  driverFor(instrumentRef: string): InstrumentDriver {
    return (
      this.byInstrument.get(instrumentRef.toLocaleLowerCase('en-US')) ??
      this.defaultDriver
    );
  }
}
