import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { Run } from '@lab-scheduler/plugin-lab-scheduler-common';
import { screen, within } from '@testing-library/react';
import { labSchedulerApiRef } from '../../api';
import { rootRouteRef } from '../../routes';
import { fakeApi } from '../fakeApi';
import { RunHistory } from './RunHistory';
import { pretendWindowWidth } from '../../__testUtils__/windowWidth';

jest.setTimeout(60_000);

const runs: Run[] = [
  {
    id: 'run-1',
    taskId: 'task-1',
    scheduledFor: '2030-01-01T09:00:00.000Z',
    status: 'succeeded',
    attempt: 1,
    claimedAt: null,
    publishedAt: '2030-01-01T09:00:01.500Z',
    startedAt: '2030-01-01T09:00:01.500Z',
    finishedAt: '2030-01-01T09:02:06.500Z',
    result: {
      summary: { peakWavelengthNm: 260, peakAbsorbance: 1.234, a260: 1.2 },
      qc: { status: 'fail', checks: [{ name: 'peakAbsorbance', pass: false }] },
      rawData: { uri: 'file:///x.json' },
    },
    error: null,
  },
  {
    id: 'run-2',
    taskId: 'task-1',
    scheduledFor: '2030-01-02T09:00:00.000Z',
    status: 'failed',
    attempt: 3,
    claimedAt: null,
    publishedAt: null,
    startedAt: null,
    finishedAt: null,
    result: null,
    error: 'InstrumentFaultError: lamp off',
  },
];

async function renderHistory() {
  await renderInTestApp(
    <TestApiProvider apis={[[labSchedulerApiRef, fakeApi([])]]}>
      <RunHistory runs={runs} />
    </TestApiProvider>,
    { mountedRoutes: { '/lab-scheduler': rootRouteRef } },
  );
}

describe('RunHistory', () => {
  const matchMedia = window.matchMedia;
  afterEach(() => {
    window.matchMedia = matchMedia;
  });

  it('shows each run with its outcome chip (a link to its page), durations in words and results with units', async () => {
    await renderHistory();
    const row = screen
      .getAllByRole('row')
      .find(r => r.textContent?.includes('QC fail'))!;
    expect(
      within(row).getByRole('link', {
        name: 'QC fail: Peak absorbance: open the run',
      }),
    ).toHaveAttribute('href', '/lab-scheduler/runs/run-1');
    // When it was due, with its zone named (issue 13).
    expect(row).toHaveTextContent(/\d:\d\d\s[AP]M (UTC|GMT)/);
    expect(row).toHaveTextContent('1.5 s');
    expect(row).toHaveTextContent('2 min 5 s');
    expect(row).toHaveTextContent(
      'Peak wavelength 260 nm · Peak absorbance 1.234 AU · A260 1.2 AU',
    );
    expect(
      within(row).getByRole('button', { name: 'Raw data' }),
    ).toBeInTheDocument();
    const failed = screen
      .getAllByRole('row')
      .find(r => r.textContent?.includes('Failed: instrument'))!;
    expect(failed).toHaveTextContent('InstrumentFaultError: lamp off');
  });

  it.each([
    [800, 'cards'],
    [1280, 'a table'],
  ])('in a %s px window shows the runs as %s', async (width, layout) => {
    // The sidebar leaves an 800 px window too little room for the table's columns.
    pretendWindowWidth(width);
    await renderHistory();
    expect(screen.queryByRole('list', { name: 'Run history' }) !== null).toBe(
      layout === 'cards',
    );
    expect(screen.queryByRole('table') !== null).toBe(layout === 'a table');
  });

  it('lists the runs as cards on a phone', async () => {
    // Undone by the afterEach above.
    pretendWindowWidth(390);
    await renderHistory();
    const list = screen.getByRole('list', { name: 'Run history' });
    expect(within(list).getAllByRole('listitem')).toHaveLength(2);
    expect(screen.queryByRole('table')).toBeNull();
    expect(
      within(list).getAllByRole('link', { name: 'Open run' })[1],
    ).toHaveAttribute('href', '/lab-scheduler/runs/run-2');
  });
});
