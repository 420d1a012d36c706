import type {
  SummaryFieldDescriptor,
  TrendDescriptor,
} from '@lab-scheduler/plugin-lab-scheduler-common';

/**
 * The one summary value per measurement type whose drift a scientist watches across runs, and the QC
 * thresholds of the task that bound it: the type's `trend` and `summaryFields` (its definition, as
 * `GET /measurement-types` serves it) applied to the task's `qc` parameters.
 */
export interface TrendMetric {
  key: string;
  label: string;
  unit?: string;
  lower?: number;
  upper?: number;
}

const num = (v: unknown) => (typeof v === 'number' ? v : undefined);

/**
 * The trend metric of a measurement type with the task's QC limits, or null for a type without a trend.
 * `summaryUnit` is the unit of a field whose unit is the summary's own (a balance's task unit).
 */
export function trendMetric(
  type:
    | {
        trend?: TrendDescriptor | null;
        summaryFields?: Record<string, SummaryFieldDescriptor> | null;
      }
    | undefined,
  qc: Record<string, unknown> = {},
  summaryUnit?: string,
): TrendMetric | null {
  const trend = type?.trend;
  if (!trend) return null;
  const field = type.summaryFields?.[trend.key];
  let lower = trend.lowerQc ? num(qc[trend.lowerQc]) : undefined;
  let upper = trend.upperQc ? num(qc[trend.upperQc]) : undefined;
  if (trend.bandQc) {
    const expected = num(qc[trend.bandQc.expected]);
    const tolerance = num(qc[trend.bandQc.tolerance]);
    if (expected !== undefined && tolerance !== undefined) {
      lower = expected - tolerance;
      upper = expected + tolerance;
    }
  }
  return {
    key: trend.key,
    label: trend.label ?? field?.label ?? trend.key,
    unit: field?.unitFromSummary ? summaryUnit : field?.unit,
    lower,
    upper,
  };
}
