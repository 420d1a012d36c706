import type { Run } from '@lab-scheduler/plugin-lab-scheduler-common';

/**
 * How the run views word and scale a run's numbers: durations a person reads at a glance, and the
 * summary values the executor computes (see lab-scheduler-node's processMeasurement) with labels and units.
 */

/** A duration in milliseconds as a person says it: "850 ms", "4.2 s", "3 min 5 s", "2 h 10 min", "3 d 4 h". */
export function humanDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const sign = ms < 0 ? '−' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) {
    const seconds = abs / 1000;
    return `${sign}${
      seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)
    } s`;
  }
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ];
  // Two units are enough to read: "2 h 10 min", not "2 h 10 min 3 s".
  const parts: string[] = [];
  let rest = Math.round(abs / 1000) * 1000;
  for (const [name, size] of units) {
    if (parts.length === 2) break;
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || parts.length > 0) parts.push(`${count} ${name}`);
  }
  return sign + parts.filter(p => !p.startsWith('0 ')).join(' ');
}

const between = (from: string | null, to: string | null): number | null =>
  from && to ? Date.parse(to) - Date.parse(from) : null;

/** The timings of a run: how late it was handed to the queue, how long it waited there, how long it took. */
export function runTimings(run: Run): {
  lateness: number | null;
  queueWait: number | null;
  duration: number | null;
} {
  return {
    lateness: between(run.scheduledFor, run.publishedAt),
    queueWait: between(run.publishedAt, run.startedAt),
    duration: between(run.startedAt, run.finishedAt),
  };
}

interface SummaryField {
  label: string;
  unit?: string;
}

/** Labels and units of the summary values, by key; `mass-reading` takes its unit from the summary itself. */
const SUMMARY_FIELDS: Record<string, SummaryField> = {
  points: { label: 'Points' },
  peakWavelengthNm: { label: 'Peak wavelength', unit: 'nm' },
  peakAbsorbance: { label: 'Peak absorbance', unit: 'AU' },
  a260: { label: 'A260', unit: 'AU' },
  a280: { label: 'A280', unit: 'AU' },
  ratio260to280: { label: 'A260/A280' },
  wells: { label: 'Wells' },
  wavelengthNm: { label: 'Wavelength', unit: 'nm' },
  meanOd: { label: 'Mean OD', unit: 'OD' },
  sdOd: { label: 'SD of OD', unit: 'OD' },
  cvPercent: { label: 'CV', unit: '%' },
  blankMeanOd: { label: 'Blank mean OD', unit: 'OD' },
  outlierCount: { label: 'Outlier wells' },
  samples: { label: 'Samples' },
  meanPh: { label: 'Mean pH', unit: 'pH' },
  minPh: { label: 'Min pH', unit: 'pH' },
  maxPh: { label: 'Max pH', unit: 'pH' },
  driftPerMinute: { label: 'Drift', unit: 'pH/min' },
  absDriftPerMinute: { label: 'Drift (absolute)', unit: 'pH/min' },
  meanTemperatureC: { label: 'Mean temperature', unit: '°C' },
  amplifiedWells: { label: 'Amplified wells' },
  meanCt: { label: 'Mean Ct', unit: 'cycles' },
  maxCt: { label: 'Max Ct', unit: 'cycles' },
  ntcMaxFluorescence: { label: 'NTC max fluorescence', unit: 'RFU' },
  replicates: { label: 'Replicates' },
  mean: { label: 'Mean' },
  stdDev: { label: 'Standard deviation' },
  drift: { label: 'Drift' },
};

/** "peakWavelengthNm" → "Peak wavelength nm" for a key the table above does not know. */
function humanizeKey(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLocaleLowerCase();
  return words.charAt(0).toLocaleUpperCase() + words.slice(1);
}

const MASS_KEYS = new Set(['mean', 'stdDev', 'drift']);

/** Label and unit of a summary value (or a QC check of it). */
export function summaryField(
  key: string,
  summary?: Record<string, unknown>,
): SummaryField {
  const known = SUMMARY_FIELDS[key];
  if (!known) return { label: humanizeKey(key) };
  if (MASS_KEYS.has(key) && typeof summary?.unit === 'string')
    return { ...known, unit: summary.unit };
  return known;
}

/** A number as a lab scientist reads it: at most 4 significant digits below 1000, no exponent soup. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const abs = Math.abs(value);
  let digits = 4;
  if (abs >= 1000) digits = 1;
  else if (abs >= 1) digits = 3;
  return Number(value.toFixed(digits)).toLocaleString('en-US', {
    maximumFractionDigits: digits,
  });
}

/** A value with its unit: "260 nm", "4.2 %", "1.03 AU". */
export function formatValue(value: unknown, unit?: string): string {
  if (value === null || value === undefined) return '—';
  const text = typeof value === 'number' ? formatNumber(value) : String(value);
  if (!unit) return text;
  return unit === '%' ? `${text} %` : `${text} ${unit}`;
}

/** The scalar values of a run's summary as labelled values with units, in the executor's order. */
export function summaryEntries(
  summary: Record<string, unknown> | undefined,
): { key: string; label: string; text: string }[] {
  if (!summary) return [];
  return Object.entries(summary)
    .filter(
      ([key, v]) => key !== 'unit' && (typeof v !== 'object' || v === null),
    )
    .map(([key, v]) => {
      const field = summaryField(key, summary);
      return { key, label: field.label, text: formatValue(v, field.unit) };
    });
}

/** The result's summary of a run, if it has one. */
export function runSummary(run: Run): Record<string, unknown> | undefined {
  const summary = run.result?.summary;
  return summary && typeof summary === 'object'
    ? (summary as Record<string, unknown>)
    : undefined;
}
