import {
  InstrumentDriver,
  InstrumentFaultError,
  MeasurementRequest,
  RawMeasurement,
} from './InstrumentDriver';
import { gaussian, round, seededRandom, seedOf } from './random';

export interface SimulatedDriverOptions {
  /** Probability (0–1) that a measurement fails with an instrument fault. Default 0. */
  faultRate?: number;
  /** Simulated acquisition time in ms (the real durations are compressed). Default 0. */
  delayMs?: number;
}

const ROWS = 'ABCDEFGHIJKLMNOP';

/**
 * Realistic simulated instruments for the demo and tests. Data is deterministic for a run (seeded by
 * its id); faults can be switched on with `faultRate`.
 */
export class SimulatedInstrumentDriver implements InstrumentDriver {
  readonly name = 'simulated';

  constructor(private readonly options: SimulatedDriverOptions = {}) {}

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
    const p = request.measurement.parameters as Record<string, any>;
    const base = {
      type: request.measurement.type,
      instrumentRef: request.instrumentRef,
      acquiredAt: new Date().toISOString(),
    };
    switch (request.measurement.type) {
      case 'absorbance-spectrum':
        return {
          ...base,
          units: { wavelength: 'nm', absorbance: 'AU' },
          data: spectrum(random, p),
        };
      case 'plate-od':
        return { ...base, units: { od: 'OD' }, data: plate(random, p) };
      case 'ph-timeseries':
        return {
          ...base,
          units: { ph: 'pH', t: 's', temperature: '°C' },
          data: phSeries(random, p),
        };
      case 'qpcr-amplification':
        return {
          ...base,
          units: { fluorescence: 'RFU' },
          data: qpcr(random, p),
        };
      case 'mass-reading':
        return { ...base, units: { mass: p.unit }, data: mass(random, p) };
      default:
        throw new Error(
          `The simulated driver cannot measure '${request.measurement.type}'`,
        );
    }
  }
}

function spectrum(random: () => number, p: any) {
  // A nucleic-acid-like sample: main peak near 260 nm, protein shoulder near 280 nm, scatter baseline.
  const peak = 258 + random() * 6;
  const height = 0.6 + random() * 0.8;
  const wavelengthNm: number[] = [];
  const absorbance: number[] = [];
  for (let nm = p.startNm; nm <= p.endNm; nm += p.stepNm) {
    const main = height * Math.exp(-((nm - peak) ** 2) / (2 * 14 ** 2));
    const shoulder =
      0.35 * height * Math.exp(-((nm - 280) ** 2) / (2 * 10 ** 2));
    const scatter = 0.02 * (320 / nm) ** 4;
    wavelengthNm.push(nm);
    absorbance.push(
      round(main + shoulder + scatter + gaussian(random, 0, 0.003)),
    );
  }
  return { wavelengthNm, absorbance };
}

function plate(random: () => number, p: any) {
  const rows = p.plateFormat === 384 ? 16 : 8;
  const cols = p.plateFormat === 384 ? 24 : 12;
  const od: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const row: number[] = [];
    for (let c = 0; c < cols; c++) {
      // Column 1 holds blanks; an occasional well is an outlier (bubble, pipetting error).
      let value: number;
      if (c === 0) value = gaussian(random, 0.045, 0.004);
      else if (random() < 0.02) value = gaussian(random, 1.6, 0.2);
      else value = gaussian(random, 0.52 + 0.01 * r, 0.03);
      row.push(round(Math.max(0, value)));
    }
    od.push(row);
  }
  return {
    wavelengthNm: p.wavelengthNm,
    rows,
    cols,
    rowLabels: ROWS.slice(0, rows).split(''),
    od,
  };
}

function phSeries(random: () => number, p: any) {
  const tSeconds: number[] = [];
  const ph: number[] = [];
  const temperatureC: number[] = [];
  const drift = gaussian(random, 0, 0.02); // pH per minute
  let value = 7 + gaussian(random, 0, 0.2);
  for (let t = 0; t <= p.durationSeconds; t += p.intervalSeconds) {
    tSeconds.push(t);
    value += (drift * p.intervalSeconds) / 60 + gaussian(random, 0, 0.005);
    ph.push(round(value, 3));
    temperatureC.push(round(gaussian(random, 25, 0.05), 2));
  }
  return { tSeconds, ph, temperatureC };
}

function qpcr(random: () => number, p: any) {
  const wells: {
    well: string;
    sample: 'unknown' | 'ntc';
    fluorescence: number[];
  }[] = [];
  for (let i = 0; i < p.wells; i++) {
    const ntc = i % 12 === 11; // the last column holds no-template controls
    const ct = 18 + random() * 12;
    const plateau = 2 + random();
    const fluorescence: number[] = [];
    for (let cycle = 1; cycle <= p.cycles; cycle++) {
      const signal = ntc ? 0 : plateau / (1 + Math.exp(-(cycle - ct) / 1.6));
      fluorescence.push(
        round(Math.max(0, signal + 0.02 + gaussian(random, 0, 0.008))),
      );
    }
    wells.push({
      well: `${ROWS[Math.floor(i / 12) % 16]}${(i % 12) + 1}`,
      sample: ntc ? 'ntc' : 'unknown',
      fluorescence,
    });
  }
  return { cycles: p.cycles, threshold: p.threshold, wells };
}

function mass(random: () => number, p: any) {
  const nominal = { mg: 250, g: 12.5, kg: 1.2 }[p.unit as 'mg' | 'g' | 'kg'];
  const readings: number[] = [];
  for (let i = 0; i < p.replicates; i++) {
    readings.push(
      round(
        nominal + gaussian(random, 0, nominal * 0.0004) + i * nominal * 0.00002,
        5,
      ),
    );
  }
  return { readings, unit: p.unit };
}
