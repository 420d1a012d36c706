import { RUN_STATUSES, Run } from './types';
import { RUN_OUTCOME_KINDS, runOutcome, runOutcomeLabel } from './runOutcome';

const run = (over: Partial<Run>): Pick<Run, 'status' | 'result' | 'error'> => ({
  status: 'succeeded',
  result: null,
  error: null,
  ...over,
});

const measured = (qc: unknown) => ({
  measurementType: 'absorbance-spectrum',
  driver: 'simulated',
  summary: { peakAbsorbance: 0.4 },
  qc,
  durationMs: 12,
});

describe('runOutcome', () => {
  it('reads a passed QC verdict as qc_pass', () => {
    const outcome = runOutcome(
      run({
        result: measured({
          status: 'pass',
          checks: [
            {
              name: 'peakAbsorbance',
              value: 0.4,
              limit: 0.1,
              comparison: '>=',
              pass: true,
            },
          ],
        }),
      }),
    );
    expect(outcome).toEqual({ kind: 'qc_pass' });
    expect(runOutcomeLabel(outcome)).toBe('QC pass');
  });

  it('names the failed checks of a failed QC verdict, not the passed ones', () => {
    const outcome = runOutcome(
      run({
        result: measured({
          status: 'fail',
          checks: [
            {
              name: 'peakAbsorbance',
              value: 0.05,
              limit: 0.1,
              comparison: '>=',
              pass: false,
            },
            {
              name: 'ratio260to280',
              value: 1.9,
              limit: 0.2,
              comparison: 'within',
              pass: true,
            },
            {
              name: 'noise',
              value: 3,
              limit: 1,
              comparison: '<=',
              pass: false,
            },
          ],
        }),
      }),
    );
    expect(outcome).toEqual({
      kind: 'qc_fail',
      failedChecks: ['peakAbsorbance', 'noise'],
    });
    expect(runOutcomeLabel(outcome)).toBe('QC fail: peakAbsorbance, noise');
    expect(
      runOutcomeLabel(outcome, { checkLabel: check => check.toUpperCase() }),
    ).toBe('QC fail: PEAKABSORBANCE, NOISE');
  });

  it('names a value once when both its lowest and highest checks failed', () => {
    const check = (comparison: string, limit: number) => ({
      name: 'peakAbsorbance',
      value: 1.5,
      limit,
      comparison,
      pass: false,
    });
    expect(
      runOutcome(
        run({
          result: measured({
            status: 'fail',
            checks: [check('>=', 2), check('<=', 1)],
          }),
        }),
      ),
    ).toEqual({ kind: 'qc_fail', failedChecks: ['peakAbsorbance'] });
  });

  it('is measured when the task sets no QC thresholds', () => {
    expect(
      runOutcome(
        run({ result: measured({ status: 'not_checked', checks: [] }) }),
      ),
    ).toEqual({ kind: 'measured' });
  });

  it('tolerates a result without a usable QC block (older rows)', () => {
    expect(runOutcome(run({ result: null }))).toEqual({ kind: 'measured' });
    expect(runOutcome(run({ result: { qc: 'fail' } }))).toEqual({
      kind: 'measured',
    });
    expect(
      runOutcome(
        run({
          result: {
            qc: { status: 'fail', checks: [null, 7, { pass: false }] },
          },
        }),
      ),
    ).toEqual({ kind: 'qc_fail', failedChecks: [] });
  });

  it('tells instrument faults from other failures', () => {
    expect(
      runOutcome(
        run({ status: 'failed', error: 'InstrumentFaultError: lamp cold' }),
      ),
    ).toEqual({ kind: 'failed', cause: 'instrument' });
    expect(
      runOutcome(
        run({
          status: 'failed',
          error: 'TimeoutError: The operation timed out',
        }),
      ),
    ).toEqual({ kind: 'failed', cause: 'execution' });
    expect(runOutcome(run({ status: 'failed', error: null }))).toEqual({
      kind: 'failed',
      cause: 'execution',
    });
  });

  it.each([
    'dead_lettered',
    'skipped',
    'cancelled',
    'pending',
    'queued',
    'running',
  ] as const)('keeps %s as it is, whatever the result says', status => {
    expect(
      runOutcome(
        run({ status, result: measured({ status: 'fail', checks: [] }) }),
      ),
    ).toEqual({ kind: status });
  });

  it('gives every status an outcome listed in RUN_OUTCOME_KINDS, with a label', () => {
    for (const status of RUN_STATUSES) {
      const outcome = runOutcome(run({ status }));
      expect(RUN_OUTCOME_KINDS).toContain(outcome.kind);
      expect(runOutcomeLabel(outcome)).not.toBe(outcome.kind);
    }
  });
});
