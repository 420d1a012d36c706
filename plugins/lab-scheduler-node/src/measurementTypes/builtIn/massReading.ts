import { measurementTypes } from '@lab-scheduler/plugin-lab-scheduler-common';
import { gaussian, round } from '../../drivers/random';
import type { MeasurementType } from '../MeasurementType';
import { mean, QcChecks, sd } from '../qc';

/** Replicate readings of a balance: mean, spread and drift, in the unit the task asks for. */
export const massReading: MeasurementType = {
  definition: measurementTypes['mass-reading'],

  simulate(p, random) {
    const nominal = { mg: 250, g: 12.5, kg: 1.2 }[p.unit as 'mg' | 'g' | 'kg'];
    const readings: number[] = [];
    for (let i = 0; i < p.replicates; i++) {
      readings.push(
        round(
          nominal +
            gaussian(random, 0, nominal * 0.0004) +
            i * nominal * 0.00002,
          5,
        ),
      );
    }
    return { units: { mass: p.unit }, data: { readings, unit: p.unit } };
  },

  process(raw, parameters) {
    const qc = parameters.qc ?? {};
    const checks = new QcChecks();
    const d = raw.data as any;
    const readings: number[] = d.readings;
    const summary = {
      replicates: readings.length,
      unit: d.unit,
      mean: round(mean(readings), 6),
      stdDev: round(sd(readings), 6),
      drift: round(readings[readings.length - 1] - readings[0], 6),
    };
    checks.max('stdDev', summary.stdDev, qc.maxStdDev);
    checks.within('mean', summary.mean, qc.expectedMass, qc.tolerance);
    return { summary, qc: checks.verdict() };
  },
};
