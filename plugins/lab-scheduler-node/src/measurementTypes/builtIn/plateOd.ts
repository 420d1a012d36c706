import { measurementTypes } from '@lab-scheduler/plugin-lab-scheduler-common';
import { gaussian, round } from '../../drivers/random';
import type { MeasurementType } from '../MeasurementType';
import { MAX_LISTED, mean, QcChecks, sd } from '../qc';

const ROWS = 'ABCDEFGHIJKLMNOP';

/** Optical density of every well: mean, CV, blanks and outlier wells. */
export const plateOd: MeasurementType = {
  definition: measurementTypes['plate-od'],

  simulate(p, random) {
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
      units: { od: 'OD' },
      data: {
        wavelengthNm: p.wavelengthNm,
        rows,
        cols,
        rowLabels: ROWS.slice(0, rows).split(''),
        od,
      },
    };
  },

  process(raw, parameters) {
    const qc = parameters.qc ?? {};
    const checks = new QcChecks();
    const d = raw.data as any;
    const od: number[][] = d.od;
    const blanks = od.map(row => row[0]);
    const samples = od.flatMap(row => row.slice(1));
    const m = mean(samples);
    const s = sd(samples);
    const outliers: { well: string; od: number }[] = [];
    od.forEach((row, r) =>
      row.forEach((value, c) => {
        if (c > 0 && s > 0 && Math.abs(value - m) / s > 3) {
          outliers.push({ well: `${d.rowLabels[r]}${c + 1}`, od: value });
        }
      }),
    );
    const summary = {
      wells: d.rows * d.cols,
      wavelengthNm: d.wavelengthNm,
      meanOd: round(m),
      sdOd: round(s),
      cvPercent: round(m ? (100 * s) / m : 0, 2),
      blankMeanOd: round(mean(blanks)),
      outlierCount: outliers.length,
      outliers: outliers.slice(0, MAX_LISTED),
    };
    checks.max('cvPercent', summary.cvPercent, qc.maxCvPercent);
    checks.max('blankMeanOd', summary.blankMeanOd, qc.maxBlankOd);
    return { summary, qc: checks.verdict() };
  },
};
