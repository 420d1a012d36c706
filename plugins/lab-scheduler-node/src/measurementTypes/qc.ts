/**
 * QC verdicts and the small statistics the built-in measurement types share; exported for modules that
 * add a measurement type, so their verdicts read like the built-in ones.
 */

/** One QC check of a measurement against a threshold from the task's parameters. @public */
export interface QcCheck {
  name: string;
  value: number;
  limit: number;
  comparison: '<=' | '>=' | 'within';
  pass: boolean;
}

/** QC verdict: fail when any check fails, not_checked when the task sets no thresholds. @public */
export interface QcVerdict {
  status: 'pass' | 'fail' | 'not_checked';
  checks: QcCheck[];
}

/** What processing makes of raw data: a bounded summary (stored with the run) and the QC verdict. @public */
export interface ProcessedMeasurement {
  summary: Record<string, unknown>;
  qc: QcVerdict;
}

/**
 * Collects the checks of one measurement. A check whose threshold the task did not set (not a number) is
 * not made, so a task without thresholds gets `not_checked` rather than a vacuous pass.
 * @public
 */
export class QcChecks {
  readonly list: QcCheck[] = [];

  /** Passes when value ≤ limit. */
  max(name: string, value: number, limit: unknown): void {
    if (typeof limit === 'number')
      this.list.push({
        name,
        value,
        limit,
        comparison: '<=',
        pass: value <= limit,
      });
  }

  /** Passes when value ≥ limit. */
  min(name: string, value: number, limit: unknown): void {
    if (typeof limit === 'number')
      this.list.push({
        name,
        value,
        limit,
        comparison: '>=',
        pass: value >= limit,
      });
  }

  /** Passes when |value − expected| ≤ tolerance; made only when both are set. */
  within(
    name: string,
    value: number,
    expected: unknown,
    tolerance: unknown,
  ): void {
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

export const mean = (xs: number[]) =>
  xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);

/** Sample standard deviation (n − 1); 0 below two values. */
export const sd = (xs: number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};

/** Least-squares slope of y over x. */
export const slope = (x: number[], y: number[]) => {
  const mx = mean(x);
  const my = mean(y);
  const num = x.reduce((a, xi, i) => a + (xi - mx) * (y[i] - my), 0);
  const den = x.reduce((a, xi) => a + (xi - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
};

/** Most items a summary lists (outlier wells, say): summaries stay small whatever the plate. */
export const MAX_LISTED = 20;
