import type { Run } from './types';

/**
 * What a run came to, as a lab user reads it: the run's status refined by its QC verdict and, for
 * failures, by what failed. The one rule behind every status chip, the `outcome` field of the API and
 * the outcome filter of recent results.
 *
 * - `qc_pass`: measured, every QC check passed.
 * - `qc_fail`: measured, but at least one QC check failed (`failedChecks` names them).
 * - `measured`: measured; the task sets no QC thresholds, so there was nothing to check.
 * - `failed`: no usable measurement. `cause` is `instrument` when the instrument faulted (worth another
 *   try), `execution` for anything else (timeout, bad data, refused request, publish failure).
 * - `dead_lettered`: every delivery failed and the message went to the dead-letter queue.
 * - `skipped`, `cancelled`: the run never measured (overlap/misfire policy, cancelled by a user).
 * - `pending`, `queued`, `running`: not finished yet.
 * @public
 */
export type RunOutcome =
  | { kind: 'qc_pass' }
  | { kind: 'qc_fail'; failedChecks: string[] }
  | { kind: 'measured' }
  | { kind: 'failed'; cause: 'instrument' | 'execution' }
  | { kind: 'dead_lettered' }
  | { kind: 'skipped' }
  | { kind: 'cancelled' }
  | { kind: 'pending' }
  | { kind: 'queued' }
  | { kind: 'running' };

/** @public */
export type RunOutcomeKind = RunOutcome['kind'];

/** Every outcome kind, finished ones first. @public */
export const RUN_OUTCOME_KINDS: RunOutcomeKind[] = [
  'qc_pass',
  'qc_fail',
  'measured',
  'failed',
  'dead_lettered',
  'skipped',
  'cancelled',
  'pending',
  'queued',
  'running',
];

/** Outcomes of runs that will not change any more. @public */
export const FINISHED_RUN_OUTCOME_KINDS: RunOutcomeKind[] = [
  'qc_pass',
  'qc_fail',
  'measured',
  'failed',
  'dead_lettered',
  'skipped',
  'cancelled',
];

/** Outcomes worth telling the task's owner about when they only want failures. @public */
export const FAILURE_RUN_OUTCOME_KINDS: RunOutcomeKind[] = [
  'qc_fail',
  'failed',
  'dead_lettered',
];

// The executor reports instrument faults with this error name (see lab-scheduler-node's InstrumentFaultError).
const INSTRUMENT_FAULT_PREFIX = 'InstrumentFaultError';

function qcOf(result: Run['result']): { status?: unknown; checks?: unknown } {
  const qc = result?.qc;
  return qc && typeof qc === 'object' ? (qc as Record<string, unknown>) : {};
}

function failedCheckNames(checks: unknown): string[] {
  if (!Array.isArray(checks)) return [];
  // Once each: a lowest and a highest threshold are two checks of one value.
  const names = checks.flatMap(check =>
    check &&
    typeof check === 'object' &&
    (check as { pass?: unknown }).pass === false &&
    typeof (check as { name?: unknown }).name === 'string'
      ? [(check as { name: string }).name]
      : [],
  );
  return [...new Set(names)];
}

/** Derives a run's outcome from its status, result and error. Pure. @public */
export function runOutcome(
  run: Pick<Run, 'status' | 'result' | 'error'>,
): RunOutcome {
  switch (run.status) {
    case 'succeeded': {
      const qc = qcOf(run.result);
      if (qc.status === 'fail') {
        return { kind: 'qc_fail', failedChecks: failedCheckNames(qc.checks) };
      }
      return qc.status === 'pass' ? { kind: 'qc_pass' } : { kind: 'measured' };
    }
    case 'failed':
      return {
        kind: 'failed',
        cause: run.error?.startsWith(INSTRUMENT_FAULT_PREFIX)
          ? 'instrument'
          : 'execution',
      };
    default:
      return { kind: run.status };
  }
}

/**
 * A short English label for an outcome, e.g. for a chip's text: "QC fail: peakAbsorbance", or with
 * `checkLabel` naming each failed check for people, "QC fail: Peak absorbance".
 * @public
 */
export function runOutcomeLabel(
  outcome: RunOutcome,
  options?: { checkLabel?: (check: string) => string },
): string {
  switch (outcome.kind) {
    case 'qc_pass':
      return 'QC pass';
    case 'qc_fail':
      return outcome.failedChecks.length > 0
        ? `QC fail: ${outcome.failedChecks
            .map(options?.checkLabel ?? (check => check))
            .join(', ')}`
        : 'QC fail';
    case 'measured':
      return 'Measured';
    case 'failed':
      return outcome.cause === 'instrument'
        ? 'Failed: instrument'
        : 'Failed: execution';
    case 'dead_lettered':
      return 'Dead-lettered';
    case 'skipped':
      return 'Skipped';
    case 'cancelled':
      return 'Cancelled';
    case 'pending':
      return 'Pending';
    case 'queued':
      return 'Queued';
    case 'running':
      return 'Running';
    default:
      return String((outcome as RunOutcome).kind);
  }
}
