/**
 * The one summary value per measurement type whose drift a scientist watches across runs, and the QC
 * thresholds of the task that bound it (names as in the measurement types' `qc` parameters).
 */
export interface TrendMetric {
  key: string;
  label: string;
  unit?: string;
  lower?: number;
  upper?: number;
}

const num = (v: unknown) => (typeof v === 'number' ? v : undefined);

/** The trend metric of a measurement type with the task's QC limits, or null for an unknown type. */
export function trendMetric(
  type: string,
  qc: Record<string, unknown> = {},
  massUnit?: string,
): TrendMetric | null {
  switch (type) {
    case 'absorbance-spectrum':
      return {
        key: 'peakAbsorbance',
        label: 'Peak absorbance',
        unit: 'AU',
        lower: num(qc.minPeakAbsorbance),
        upper: num(qc.maxPeakAbsorbance),
      };
    case 'plate-od':
      return {
        key: 'cvPercent',
        label: 'CV',
        unit: '%',
        upper: num(qc.maxCvPercent),
      };
    case 'ph-timeseries':
      // The limits bound every sample; the mean must sit inside them too.
      return {
        key: 'meanPh',
        label: 'Mean pH',
        unit: 'pH',
        lower: num(qc.minPh),
        upper: num(qc.maxPh),
      };
    case 'qpcr-amplification':
      return {
        key: 'meanCt',
        label: 'Mean Ct',
        unit: 'cycles',
        upper: num(qc.maxCt),
      };
    case 'mass-reading': {
      const expected = num(qc.expectedMass);
      const tolerance = num(qc.tolerance);
      const both = expected !== undefined && tolerance !== undefined;
      return {
        key: 'mean',
        label: 'Mean mass',
        unit: massUnit,
        lower: both ? expected - tolerance : undefined,
        upper: both ? expected + tolerance : undefined,
      };
    }
    default:
      return null;
  }
}
