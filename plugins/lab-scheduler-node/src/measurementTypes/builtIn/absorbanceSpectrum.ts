import { measurementTypes } from '@lab-scheduler/plugin-lab-scheduler-common';
import { gaussian, round } from '../../drivers/random';
import type { MeasurementType } from '../MeasurementType';
import { QcChecks } from '../qc';

/** UV-Vis absorbance scan: the peak, A260, A280 and their ratio. */
export const absorbanceSpectrum: MeasurementType = {
  definition: measurementTypes['absorbance-spectrum'],

  simulate(p, random) {
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
    return {
      units: { wavelength: 'nm', absorbance: 'AU' },
      data: { wavelengthNm, absorbance },
    };
  },

  process(raw, parameters) {
    const qc = parameters.qc ?? {};
    const checks = new QcChecks();
    const d = raw.data as any;
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
      ratio260to280: a260 !== undefined && a280 ? round(a260 / a280, 3) : null,
    };
    checks.min('peakAbsorbance', summary.peakAbsorbance, qc.minPeakAbsorbance);
    checks.max('peakAbsorbance', summary.peakAbsorbance, qc.maxPeakAbsorbance);
    checks.within(
      'peakWavelengthNm',
      summary.peakWavelengthNm,
      qc.expectedPeakNm,
      qc.peakToleranceNm,
    );
    return { summary, qc: checks.verdict() };
  },
};
