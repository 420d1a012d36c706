import {
  measurementTypes,
  Run,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { screen } from '@testing-library/react';
import { makeTask } from '../fakeApi';
import { renderPlot } from '../plots/__testUtils__/renderPlot';
import { TrendChart } from './TrendChart';
import { trendMetric } from './trendMetric';

const task = makeTask(1, {
  measurement: {
    type: 'absorbance-spectrum',
    parameters: { qc: { minPeakAbsorbance: 0.5, maxPeakAbsorbance: 1.5 } },
  },
});

function run(
  i: number,
  peakAbsorbance: number,
  status: Run['status'] = 'succeeded',
): Run {
  const pass = peakAbsorbance >= 0.5 && peakAbsorbance <= 1.5;
  return {
    id: `run-${i}`,
    taskId: task.id,
    // Newest first, as the API lists them.
    scheduledFor: new Date(Date.UTC(2030, 0, 10 - i)).toISOString(),
    status,
    attempt: 1,
    claimedAt: null,
    publishedAt: null,
    startedAt: null,
    finishedAt: null,
    result:
      status === 'succeeded'
        ? {
            summary: { peakAbsorbance },
            qc: {
              status: pass ? 'pass' : 'fail',
              checks: [{ name: 'peakAbsorbance', pass }],
            },
          }
        : null,
    error: null,
  };
}

describe('TrendChart', () => {
  it('plots the key value of every measured run and marks the QC fails apart', () => {
    const runs = [
      run(0, 1.7),
      run(1, 1.0),
      run(2, 0.9, 'failed'),
      run(3, 1.1),
      run(4, 0.4),
    ];
    const { container } = renderPlot(<TrendChart task={task} runs={runs} />);
    expect(container.querySelectorAll('.trend-point')).toHaveLength(4);
    expect(container.querySelectorAll('.trend-point-fail')).toHaveLength(2);
    expect(
      screen.getByRole('figure', { name: 'Trend of peak absorbance' }),
    ).toHaveTextContent(
      'Peak absorbance of the last 4 measured runs, oldest first; mean 1.05 AU; QC lower limit 0.5 AU, upper limit 1.5 AU; 2 QC fails (red diamonds).',
    );
  });

  it('draws the QC limits as lines with the out-of-limit points beyond them', () => {
    const runs = [run(0, 1.7), run(1, 1.0), run(2, 0.4)];
    const { container } = renderPlot(<TrendChart task={task} runs={runs} />);
    expect(screen.getByText('max 1.5 AU')).toBeInTheDocument();
    expect(screen.getByText('min 0.5 AU')).toBeInTheDocument();
    const [lower, upper] = Array.from(
      container.querySelectorAll('.trend-limit line'),
    ).map(l => Number(l.getAttribute('y1')));
    // Oldest first: 0.4, 1.0, 1.7. SVG y grows downwards.
    const ys = Array.from(container.querySelectorAll('.trend-point')).map(p =>
      p.tagName === 'circle'
        ? Number(p.getAttribute('cy'))
        : Number(/,(-?[\d.]+)/.exec(p.getAttribute('d')!)![1]) + 6,
    );
    expect(ys[0]).toBeGreaterThan(lower);
    expect(ys[1]).toBeLessThan(lower);
    expect(ys[1]).toBeGreaterThan(upper);
    expect(ys[2]).toBeLessThan(upper);
  });

  it('says when there is nothing measured yet', () => {
    renderPlot(<TrendChart task={task} runs={[run(0, 1, 'pending')]} />);
    expect(screen.getByText(/No measured runs yet/)).toBeInTheDocument();
  });
});

describe('trendMetric', () => {
  it('bounds the mass by expected ± tolerance in the task unit', () => {
    expect(
      trendMetric(
        measurementTypes['mass-reading'],
        { expectedMass: 12.5, tolerance: 0.01 },
        'g',
      ),
    ).toEqual({
      key: 'mean',
      label: 'Mean mass',
      unit: 'g',
      lower: 12.49,
      upper: 12.51,
    });
    const cv = trendMetric(measurementTypes['plate-od'], { maxCvPercent: 10 });
    expect(cv).toMatchObject({ key: 'cvPercent', label: 'CV', unit: '%' });
    expect(cv).toMatchObject({ upper: 10 });
    expect(cv!.lower).toBeUndefined();
    expect(trendMetric(undefined)).toBeNull();
  });

  it("follows a module type's trend and summary fields", () => {
    const turbidity = {
      trend: { key: 'meanNtu', upperQc: 'maxNtu' },
      summaryFields: { meanNtu: { label: 'Mean turbidity', unit: 'NTU' } },
    };
    expect(trendMetric(turbidity, { maxNtu: 10, minNtu: 1 })).toEqual({
      key: 'meanNtu',
      label: 'Mean turbidity',
      unit: 'NTU',
      lower: undefined,
      upper: 10,
    });
    expect(trendMetric({ summaryFields: turbidity.summaryFields })).toBeNull();
  });
});
