import {
  measurementTypes,
  Run,
  SummaryFieldDescriptor,
} from '@lab-scheduler/plugin-lab-scheduler-common';

/**
 * How the run views word and scale a run's numbers: durations a person reads at a glance, and the
 * summary values the executor computes with the labels and units their measurement type gives.
 */

/** Durations read the same in the UI and in the backend's messages (written once, in common). */
export { humanDuration } from '@lab-scheduler/plugin-lab-scheduler-common';

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

/** The summary fields of the built-in types: what a run of an unknown type falls back to. */
const BUILT_IN_SUMMARY_FIELDS: Record<string, SummaryFieldDescriptor> =
  Object.assign(
    {},
    ...Object.values(measurementTypes).map(d => d.summaryFields ?? {}),
  );

/** "peakWavelengthNm" → "Peak wavelength nm" for a key the type does not describe. */
function humanizeKey(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLocaleLowerCase();
  return words.charAt(0).toLocaleUpperCase() + words.slice(1);
}

/**
 * Label and unit of a summary value (or a QC check of it), from the run's measurement type
 * (`summaryFields` of its definition, as `GET /measurement-types` gives it); without them, the built-in
 * types' fields.
 */
export function summaryField(
  key: string,
  summary?: Record<string, unknown>,
  fields?: Record<string, SummaryFieldDescriptor> | null,
): SummaryField {
  const table = fields ?? BUILT_IN_SUMMARY_FIELDS;
  const known = Object.hasOwn(table, key) ? table[key] : undefined;
  if (!known) return { label: humanizeKey(key) };
  if (known.unitFromSummary)
    return {
      label: known.label,
      unit: typeof summary?.unit === 'string' ? summary.unit : undefined,
    };
  return { label: known.label, unit: known.unit };
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
  fields?: Record<string, SummaryFieldDescriptor> | null,
): { key: string; label: string; text: string }[] {
  if (!summary) return [];
  return Object.entries(summary)
    .filter(
      ([key, v]) => key !== 'unit' && (typeof v !== 'object' || v === null),
    )
    .map(([key, v]) => {
      const field = summaryField(key, summary, fields);
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
