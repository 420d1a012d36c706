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

/**
 * No driver is configured for the instrument and simulated measurements are not allowed. Final: another
 * delivery would fail the same way.
 */
export class NoInstrumentDriverError extends Error {
  constructor(instrumentRef: string) {
    super(
      `No instrument driver is configured for ${instrumentRef}; configure one (labScheduler.execution.instruments, ` +
        `or INSTRUMENT_GATEWAYS for the Lambda) or allow simulated measurements (labScheduler.execution.simulated.allowed, ` +
        `SIMULATED_INSTRUMENTS_ALLOWED for the Lambda)`,
    );
    this.name = 'NoInstrumentDriverError';
  }
}

/**
 * Chooses the driver for a run: per-instrument drivers first, then the fallback. Without a fallback
 * (simulation not allowed), an instrument without a driver of its own is refused.
 */
export class DriverRegistry {
  constructor(
    private readonly fallbackDriver: InstrumentDriver | undefined,
    private readonly byInstrument: Map<string, InstrumentDriver> = new Map(),
  ) {}

  /** Whether a run on the instrument would find a driver. */
  has(instrumentRef: string): boolean {
    return (
      this.fallbackDriver !== undefined ||
      this.byInstrument.has(instrumentRef.toLocaleLowerCase('en-US'))
    );
  }

  /** @throws NoInstrumentDriverError when the instrument has no driver and there is no fallback. */
  driverFor(instrumentRef: string): InstrumentDriver {
    const driver =
      this.byInstrument.get(instrumentRef.toLocaleLowerCase('en-US')) ??
      this.fallbackDriver;
    if (!driver) throw new NoInstrumentDriverError(instrumentRef);
    return driver;
  }
}
