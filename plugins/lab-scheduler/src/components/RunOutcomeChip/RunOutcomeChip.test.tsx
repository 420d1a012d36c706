import { Run, RUN_STATUSES } from '@lab-scheduler/plugin-lab-scheduler-common';
import { renderInTestApp } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import {
  OUTCOME_STYLES,
  OUTCOME_TEXT_COLOR,
  RunOutcomeChip,
} from './RunOutcomeChip';

jest.setTimeout(60_000);

// WCAG 2 relative luminance and contrast ratio.
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map(i => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const run = (
  status: Run['status'],
  result: Run['result'] = null,
  error: string | null = null,
): Pick<Run, 'status' | 'result' | 'error'> => ({ status, result, error });

describe('RunOutcomeChip', () => {
  it('tells a QC fail from a pass although both runs succeeded, naming the failed checks', async () => {
    await renderInTestApp(
      <>
        <RunOutcomeChip
          run={run('succeeded', {
            qc: {
              status: 'fail',
              checks: [
                { name: 'cvPercent', pass: false },
                { name: 'blankMeanOd', pass: true },
              ],
            },
          })}
        />
        <RunOutcomeChip
          run={run('succeeded', { qc: { status: 'pass', checks: [] } })}
        />
      </>,
    );
    const fail = screen.getByText('QC fail: CV');
    const pass = screen.getByText('QC pass');
    const chipOf = (el: HTMLElement) => el.closest('[data-outcome]')!;
    expect(chipOf(fail).getAttribute('data-outcome')).toBe('qc_fail');
    expect(chipOf(pass).getAttribute('data-outcome')).toBe('qc_pass');
    expect((chipOf(fail) as HTMLElement).style.background).not.toBe(
      (chipOf(pass) as HTMLElement).style.background,
    );
  });

  it('names instrument failures and dead letters in words', async () => {
    await renderInTestApp(
      <>
        <RunOutcomeChip
          run={run('failed', null, 'InstrumentFaultError: lamp off')}
        />
        <RunOutcomeChip run={run('failed', null, 'Error: bad data')} />
        <RunOutcomeChip run={run('dead_lettered')} />
        <RunOutcomeChip run={null} />
      </>,
    );
    expect(screen.getByText('Failed: instrument')).toBeInTheDocument();
    expect(screen.getByText('Failed: execution')).toBeInTheDocument();
    expect(screen.getByText('Dead-lettered')).toBeInTheDocument();
    expect(screen.getByText('never run')).toBeInTheDocument();
  });

  it('links to the run when given a target', async () => {
    await renderInTestApp(
      <RunOutcomeChip run={run('running')} to="/lab-scheduler/runs/r1" />,
    );
    expect(
      screen.getByRole('link', { name: 'Running: open the run' }),
    ).toHaveAttribute('href', '/lab-scheduler/runs/r1');
  });

  it('has text at 4.5:1 or more on every outcome colour, and every finished outcome its own look', () => {
    for (const [kind, style] of Object.entries(OUTCOME_STYLES)) {
      expect([
        kind,
        contrast(style.background, OUTCOME_TEXT_COLOR) >= 4.5,
      ]).toEqual([kind, true]);
    }
    const finished = [
      'qc_pass',
      'qc_fail',
      'measured',
      'failed',
      'dead_lettered',
    ] as const;
    const styles = finished.map(kind => OUTCOME_STYLES[kind]);
    expect(new Set(styles.map(s => s.background)).size).toBe(finished.length);
    expect(new Set(styles.map(s => s.icon)).size).toBe(finished.length);
  });

  it('has a chip for every run status', async () => {
    await renderInTestApp(
      <>
        {RUN_STATUSES.map(status => (
          <RunOutcomeChip key={status} run={run(status)} />
        ))}
      </>,
    );
    for (const label of [
      'Pending',
      'Queued',
      'Running',
      'Measured',
      'Failed: execution',
      'Dead-lettered',
      'Skipped',
      'Cancelled',
    ])
      expect(screen.getByText(label)).toBeInTheDocument();
  });
});
