import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { Run } from '@lab-scheduler/plugin-lab-scheduler-common';
import { screen, within } from '@testing-library/react';
import { Route, Routes } from 'react-router-dom';
import { labSchedulerApiRef } from '../../api';
import { rootRouteRef } from '../../routes';
import { fakeApi, makeTask } from '../fakeApi';
import { FixedPlotWidthContext } from '../plots';
import { RunPage } from './RunPage';

jest.setTimeout(60_000);

const task = makeTask(1, {
  name: 'Plate check',
  measurement: {
    type: 'plate-od',
    parameters: { qc: { maxCvPercent: 5, maxBlankOd: 0.1 } },
  },
});
const runId = '00000000-0000-4000-8000-0000000000aa';

function qcFailRun(): Run {
  return {
    id: runId,
    taskId: task.id,
    scheduledFor: '2030-01-01T09:00:00.000Z',
    status: 'succeeded',
    attempt: 2,
    claimedAt: '2030-01-01T09:00:00.100Z',
    publishedAt: '2030-01-01T09:00:00.250Z',
    startedAt: '2030-01-01T09:00:02.250Z',
    finishedAt: '2030-01-01T09:03:07.250Z',
    result: {
      measurementType: 'plate-od',
      summary: {
        wells: 96,
        meanOd: 0.52,
        cvPercent: 7.25,
        blankMeanOd: 0.045,
        outlierCount: 1,
        outliers: [{ well: 'C7', od: 1.6 }],
      },
      qc: {
        status: 'fail',
        checks: [
          {
            name: 'cvPercent',
            value: 7.25,
            limit: 5,
            comparison: '<=',
            pass: false,
          },
          {
            name: 'blankMeanOd',
            value: 0.045,
            limit: 0.1,
            comparison: '<=',
            pass: true,
          },
        ],
      },
      rawData: { uri: 'file:///raw/run.json' },
    },
    error: null,
  };
}

const plate = {
  type: 'plate-od',
  units: { od: 'OD' },
  data: {
    wavelengthNm: 600,
    rows: 8,
    cols: 12,
    rowLabels: 'ABCDEFGH'.split(''),
    od: Array.from({ length: 8 }, () => Array(12).fill(0.5)),
  },
};

/** Renders the page of `run`, or of an address the API answers with `failure`'s status code. */
async function renderRunPage(
  run: Run | { failure: number },
  raw: unknown = plate,
) {
  const api = fakeApi([task]);
  if ('failure' in run) {
    (api.getRun as jest.Mock).mockRejectedValue(
      Object.assign(new Error(`Request failed with ${run.failure}`), {
        statusCode: run.failure,
      }),
    );
  } else {
    (api.getRun as jest.Mock).mockResolvedValue(run);
  }
  (api.getTask as jest.Mock).mockResolvedValue(task);
  (api.getRawData as jest.Mock).mockResolvedValue(
    new Blob([JSON.stringify(raw)], { type: 'application/json' }),
  );
  await renderInTestApp(
    <TestApiProvider apis={[[labSchedulerApiRef, api]]}>
      <FixedPlotWidthContext.Provider value={600}>
        <Routes>
          <Route path="/lab-scheduler/runs/:runId" element={<RunPage />} />
        </Routes>
      </FixedPlotWidthContext.Provider>
    </TestApiProvider>,
    {
      mountedRoutes: { '/lab-scheduler': rootRouteRef },
      routeEntries: [
        `/lab-scheduler/runs/${'failure' in run ? 'not-a-run' : run.id}`,
      ],
    },
  );
  return api;
}

describe('RunPage', () => {
  it.each([
    [404, 'a run that is gone'],
    [400, 'an address that is not a run id'],
  ])('says in words that there is no run, for a %s (%s)', async statusCode => {
    await renderRunPage({ failure: statusCode });
    expect(
      await screen.findByRole('heading', { name: 'Run not found' }),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('link', { name: 'Back to the upcoming tests' }),
    ).toHaveAttribute('href', '/lab-scheduler');
    expect(screen.queryByText(/Request failed/)).not.toBeInTheDocument();
  });

  it('shows a QC-fail run: the verdict, the checks against their thresholds, human timings and the plot', async () => {
    const api = await renderRunPage(qcFailRun());
    expect(
      await screen.findByRole('heading', { name: 'Run of Plate check' }),
    ).toBeInTheDocument();
    expect(api.getRun).toHaveBeenCalledWith(runId);
    expect(screen.getByText('QC fail: CV')).toBeInTheDocument();
    const checks = screen.getByRole('table', { name: 'QC checks' });
    const cvRow = within(checks).getByRole('row', { name: /^CV/ });
    expect(cvRow).toHaveTextContent('CV7.25 %≤ 5 %FAIL');
    expect(
      within(checks).getByRole('row', { name: /^Blank mean OD/ }),
    ).toHaveTextContent('Blank mean OD0.045 OD≤ 0.1 ODpass');
    // Summary as labelled values with units.
    expect(screen.getByText('Mean OD').nextSibling).toHaveTextContent(
      '0.52 OD',
    );
    // Timings as durations a person reads.
    expect(screen.getByText('Lateness').nextSibling).toHaveTextContent(
      '250 ms',
    );
    expect(screen.getByText('Queue wait').nextSibling).toHaveTextContent(
      '2.0 s',
    );
    expect(screen.getByText('Duration').nextSibling).toHaveTextContent(
      '3 min 5 s',
    );
    expect(screen.getByText('Attempts').nextSibling).toHaveTextContent('2');
    // Instants name their zone, as every time on screen (issue 13).
    expect(screen.getByText('Scheduled for').nextSibling).toHaveTextContent(
      /\d:\d\d:\d\d\s[AP]M (UTC|GMT)/,
    );
    // The raw data, plotted: a 96-well heatmap with the executor's outlier outlined.
    const figure = await screen.findByRole('figure', {
      name: 'Plate heatmap, 96 wells',
    });
    expect(figure.querySelectorAll('[data-well]')).toHaveLength(96);
    expect(
      within(figure).getByLabelText('C7: 0.5 OD (outlier)'),
    ).toBeInTheDocument();
    expect(api.getRawData).toHaveBeenCalledWith(runId);
  });

  it('shows the error of a failed run and does not ask for raw data it does not have', async () => {
    const api = await renderRunPage({
      ...qcFailRun(),
      status: 'failed',
      result: null,
      error: 'InstrumentFaultError: detector saturated',
    });
    expect(await screen.findByText('Failed: instrument')).toBeInTheDocument();
    expect(
      screen.getByText('InstrumentFaultError: detector saturated'),
    ).toBeInTheDocument();
    expect(
      screen.getByText('This run stored no raw data.'),
    ).toBeInTheDocument();
    expect(api.getRawData).not.toHaveBeenCalled();
  });

  it('shows the expected value of a "within" check', async () => {
    const massTask = makeTask(1, {
      measurement: {
        type: 'mass-reading',
        parameters: { unit: 'g', qc: { expectedMass: 12.5, tolerance: 0.01 } },
      },
    });
    const api = fakeApi([massTask]);
    (api.getRun as jest.Mock).mockResolvedValue({
      ...qcFailRun(),
      result: {
        summary: { replicates: 3, unit: 'g', mean: 12.52, stdDev: 0.001 },
        qc: {
          status: 'fail',
          checks: [
            {
              name: 'mean',
              value: 12.52,
              limit: 0.01,
              comparison: 'within',
              pass: false,
            },
          ],
        },
      },
    });
    (api.getTask as jest.Mock).mockResolvedValue(massTask);
    await renderInTestApp(
      <TestApiProvider apis={[[labSchedulerApiRef, api]]}>
        <Routes>
          <Route path="/lab-scheduler/runs/:runId" element={<RunPage />} />
        </Routes>
      </TestApiProvider>,
      {
        mountedRoutes: { '/lab-scheduler': rootRouteRef },
        routeEntries: [`/lab-scheduler/runs/${runId}`],
      },
    );
    const checks = await screen.findByRole('table', { name: 'QC checks' });
    expect(
      await within(checks).findByText('12.5 g ± 0.01 g'),
    ).toBeInTheDocument();
  });
});
