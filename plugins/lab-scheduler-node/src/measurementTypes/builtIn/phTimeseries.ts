import { measurementTypes } from '@lab-scheduler/plugin-lab-scheduler-common';
import { gaussian, round } from '../../drivers/random';
import type { MeasurementType } from '../MeasurementType';
import { mean, QcChecks, slope } from '../qc';

/** pH sampled at a fixed interval: range, drift per minute and temperature. */
export const phTimeseries: MeasurementType = {
  definition: measurementTypes['ph-timeseries'],

  simulate(p, random) {
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
    return {
      units: { ph: 'pH', t: 's', temperature: '°C' },
      data: { tSeconds, ph, temperatureC },
    };
  },

  process(raw, parameters) {
    const qc = parameters.qc ?? {};
    const checks = new QcChecks();
    const d = raw.data as any;
    const t: number[] = d.tSeconds;
    const ph: number[] = d.ph;
    const summary = {
      samples: ph.length,
      meanPh: round(mean(ph), 3),
      minPh: Math.min(...ph),
      maxPh: Math.max(...ph),
      driftPerMinute: round(slope(t, ph) * 60, 4),
      meanTemperatureC: round(mean(d.temperatureC), 2),
    };
    checks.min('minPh', summary.minPh, qc.minPh);
    checks.max('maxPh', summary.maxPh, qc.maxPh);
    checks.max(
      'absDriftPerMinute',
      Math.abs(summary.driftPerMinute),
      qc.maxDriftPerMinute,
    );
    return { summary, qc: checks.verdict() };
  },
};
