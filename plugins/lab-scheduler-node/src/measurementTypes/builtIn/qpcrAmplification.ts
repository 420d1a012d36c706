import { measurementTypes } from '@lab-scheduler/plugin-lab-scheduler-common';
import { gaussian, round } from '../../drivers/random';
import type { MeasurementType } from '../MeasurementType';
import { mean, QcChecks } from '../qc';

const ROWS = 'ABCDEFGHIJKLMNOP';

/** Amplification curves: Ct per well, no-template controls. */
export const qpcrAmplification: MeasurementType = {
  definition: measurementTypes['qpcr-amplification'],

  simulate(p, random) {
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
    return {
      units: { fluorescence: 'RFU' },
      data: { cycles: p.cycles, threshold: p.threshold, wells },
    };
  },

  process(raw, parameters) {
    const qc = parameters.qc ?? {};
    const checks = new QcChecks();
    const d = raw.data as any;
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
  },
};
