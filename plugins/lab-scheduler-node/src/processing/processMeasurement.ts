import type { RawMeasurement } from '../drivers/InstrumentDriver';
import { round } from '../drivers/random';

/** One QC check of a measurement against a threshold from the task's parameters. */
export interface QcCheck {
  name: string;
  value: number;
  limit: number;
  comparison: '<=' | '>=' | 'within';
  pass: boolean;
}

/** QC verdict: fail when any check fails, not_checked when the task sets no thresholds. */
export interface QcVerdict {
  status: 'pass' | 'fail' | 'not_checked';
  checks: QcCheck[];
}

export interface ProcessedMeasurement {
  summary: Record<string, unknown>;
  qc: QcVerdict;
}

const MAX_LISTED = 20;

const mean = (xs: number[]) =>
  xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
const sd = (xs: number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};
/** Least-squares slope of y over x. */
const slope = (x: number[], y: number[]) => {
  const mx = mean(x);
  const my = mean(y);
  const num = x.reduce((a, xi, i) => a + (xi - mx) * (y[i] - my), 0);
  const den = x.reduce((a, xi) => a + (xi - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
};

class Checks {
  readonly list: QcCheck[] = [];
  max(name: string, value: number, limit: unknown) {
    if (typeof limit === 'number')
      this.list.push({
        name,
        value,
        limit,
        comparison: '<=',
        pass: value <= limit,
      });
  }
  min(name: string, value: number, limit: unknown) {
    if (typeof limit === 'number')
      this.list.push({
        name,
        value,
        limit,
        comparison: '>=',
        pass: value >= limit,
      });
  }
  within(name: string, value: number, expected: unknown, tolerance: unknown) {
    if (typeof expected === 'number' && typeof tolerance === 'number') {
      this.list.push({
        name,
        value,
        limit: tolerance,
        comparison: 'within',
        pass: Math.abs(value - expected) <= tolerance,
      });
    }
  }
  verdict(): QcVerdict {
    if (this.list.length === 0) return { status: 'not_checked', checks: [] };
    return {
      status: this.list.every(c => c.pass) ? 'pass' : 'fail',
      checks: this.list,
    };
  }
}

/**
 * Turns raw data into a bounded summary and a QC verdict against the thresholds in `parameters.qc`.
 */
export function processMeasurement(
  raw: RawMeasurement,
  parameters: Record<string, any>,
): ProcessedMeasurement {
  const qc = (parameters.qc ?? {}) as Record<string, number | undefined>;
  const checks = new Checks();
  const d = raw.data as any;
  switch (raw.type) {
    case 'absorbance-spectrum': {
      const wl: number[] = d.wavelengthNm;
      const abs: number[] = d.absorbance;
      let peakIndex = 0;
      abs.forEach((a, i) => {
        if (a > abs[peakIndex]) peakIndex = i;
      });
      const at = (nm: number) => {
        const i = wl.findIndex(w => w >= nm);
        return i >= 0 ? abs[i] : undefined;
      };
      const a260 = at(260);
      const a280 = at(280);
      const summary = {
        points: wl.length,
        peakWavelengthNm: wl[peakIndex],
        peakAbsorbance: round(abs[peakIndex]),
        a260: a260 ?? null,
        a280: a280 ?? null,
        ratio260to280:
          a260 !== undefined && a280 ? round(a260 / a280, 3) : null,
      };
      checks.min(
        'peakAbsorbance',
        summary.peakAbsorbance,
        qc.minPeakAbsorbance,
      );
      checks.max(
        'peakAbsorbance',
        summary.peakAbsorbance,
        qc.maxPeakAbsorbance,
      );
      checks.within(
        'peakWavelengthNm',
        summary.peakWavelengthNm,
        qc.expectedPeakNm,
        qc.peakToleranceNm,
      );
      return { summary, qc: checks.verdict() };
    }
    case 'plate-od': {
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
    }
    case 'ph-timeseries': {
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
    }
    case 'qpcr-amplification': {
      const threshold: number = d.threshold;
      const cts = (d.wells as any[]).map(w => {
        const f: number[] = w.fluorescence;
        const i = f.findIndex(v => v >= threshold);
        // Linear interpolation between the cycles around the threshold crossing.
        let ct: number | null = null;
        if (i === 0) ct = 1;
        else if (i > 0)
          ct = round(i + (threshold - f[i - 1]) / (f[i] - f[i - 1]), 2);
        return {
          well: w.well,
          sample: w.sample,
          ct,
          maxFluorescence: Math.max(...f),
        };
      });
      const unknown = cts.filter(c => c.sample !== 'ntc');
      const amplified = unknown
        .filter(c => c.ct !== null)
        .map(c => c.ct as number);
      const ntcMax = Math.max(
        0,
        ...cts.filter(c => c.sample === 'ntc').map(c => c.maxFluorescence),
      );
      const summary = {
        wells: cts.length,
        amplifiedWells: amplified.length,
        meanCt: amplified.length ? round(mean(amplified), 2) : null,
        maxCt: amplified.length ? Math.max(...amplified) : null,
        ntcMaxFluorescence: round(ntcMax),
        ct: cts.slice(0, 96).map(c => ({ well: c.well, ct: c.ct })),
      };
      if (summary.maxCt !== null) checks.max('maxCt', summary.maxCt, qc.maxCt);
      checks.max(
        'ntcMaxFluorescence',
        summary.ntcMaxFluorescence,
        qc.maxNtcAmplification,
      );
      return { summary, qc: checks.verdict() };
    }
    case 'mass-reading': {
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
    }
    default:
      throw new Error(`No processing for measurement type '${raw.type}'`);
  }
}
