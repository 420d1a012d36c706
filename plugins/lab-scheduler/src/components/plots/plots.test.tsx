import { screen, within } from '@testing-library/react';
import { MassPlot, meanAndSd } from './MassPlot';
import { PhTimeSeriesPlot } from './PhTimeSeriesPlot';
import { heatColor, PlateHeatmap } from './PlateHeatmap';
import { QpcrPlot } from './QpcrPlot';
import { RawDataPlot } from './RawDataPlot';
import { pathPoints, renderPlot } from './__testUtils__/renderPlot';

const ROWS = 'ABCDEFGHIJKLMNOP';

function plate(format: 96 | 384) {
  const rows = format === 96 ? 8 : 16;
  const cols = format === 96 ? 12 : 24;
  return {
    wavelengthNm: 600,
    rows,
    cols,
    rowLabels: ROWS.slice(0, rows).split(''),
    od: Array.from({ length: rows }, (_, r) =>
      Array.from({ length: cols }, (__, c) => (c === 0 ? 0.05 : 0.5 + r / 100)),
    ),
  };
}

describe('PlateHeatmap', () => {
  it('draws one cell per well of a 96-well plate, named by well and OD', () => {
    const { container } = renderPlot(
      <PlateHeatmap data={plate(96)} outliers={['C7']} />,
    );
    const cells = container.querySelectorAll('[data-well]');
    expect(cells).toHaveLength(96);
    expect(cells[0].getAttribute('data-well')).toBe('A1');
    expect(cells[95].getAttribute('data-well')).toBe('H12');
    expect(screen.getByLabelText('C7: 0.52 OD (outlier)')).toBeInTheDocument();
    expect(screen.getByLabelText('A1: 0.05 OD')).toBeInTheDocument();
    expect(
      screen.getByRole('figure', { name: 'Plate heatmap, 96 wells' }),
    ).toBeInTheDocument();
  });

  it('draws 384 cells for a 384-well plate, lowest OD darkest, highest lightest', () => {
    const { container } = renderPlot(<PlateHeatmap data={plate(384)} />);
    expect(container.querySelectorAll('[data-well]')).toHaveLength(384);
    const colour = (well: string) =>
      (container.querySelector(`[data-well="${well}"]`) as HTMLElement).style
        .background;
    // A1 is a blank (lowest OD), P24 the highest.
    expect(colour('A1')).toBe('rgb(68, 1, 84)');
    expect(colour('P24')).toBe('rgb(253, 231, 37)');
  });

  it('maps values onto the scale linearly between its stops', () => {
    expect(heatColor(0, 0, 1)).toBe('#440154');
    expect(heatColor(1, 0, 1)).toBe('#fde725');
    expect(heatColor(0.5, 0, 1)).toBe('#21918c');
    expect(heatColor(2, 0, 1)).toBe('#fde725');
  });
});

describe('PhTimeSeriesPlot', () => {
  const data = {
    tSeconds: [0, 5, 10, 15, 20],
    ph: [7.0, 7.01, 7.02, 7.04, 7.05],
    temperatureC: [25, 25.1, 25, 24.9, 25],
  };

  it('draws the pH and the temperature as two lines over every sample', () => {
    const { container } = renderPlot(<PhTimeSeriesPlot data={data} />);
    const ph = container.querySelector('.ph-line path.recharts-line-curve');
    const temperature = container.querySelector(
      '.temperature-line path.recharts-line-curve',
    );
    expect(pathPoints(ph!.getAttribute('d'))).toHaveLength(5);
    expect(pathPoints(temperature!.getAttribute('d'))).toHaveLength(5);
    // pH rises: each point is higher on screen (smaller y) than the one before.
    const ys = pathPoints(ph!.getAttribute('d')).map(p => p.y);
    expect(ys).toEqual([...ys].sort((a, b) => b - a));
  });

  it("draws the task's pH limits", () => {
    renderPlot(
      <PhTimeSeriesPlot data={data} limits={{ minPh: 6.8, maxPh: 7.2 }} />,
    );
    expect(screen.getByText('min pH 6.8')).toBeInTheDocument();
    expect(screen.getByText('max pH 7.2')).toBeInTheDocument();
  });
});

describe('QpcrPlot', () => {
  const sigmoid = (ct: number) =>
    Array.from(
      { length: 30 },
      (_, i) => 2 / (1 + Math.exp(-(i + 1 - ct) / 1.6)),
    );
  const data = {
    cycles: 30,
    threshold: 0.2,
    wells: [
      { well: 'A1', sample: 'unknown' as const, fluorescence: sigmoid(18) },
      { well: 'A2', sample: 'unknown' as const, fluorescence: sigmoid(24) },
      {
        well: 'A3',
        sample: 'ntc' as const,
        fluorescence: Array(30).fill(0.02),
      },
    ],
  };

  it('draws one curve per well, the controls apart, and a Ct mark per amplified well on the threshold', () => {
    const { container } = renderPlot(
      <QpcrPlot
        data={data}
        cts={[
          { well: 'A1', ct: 14.5 },
          { well: 'A2', ct: 20.5 },
          { well: 'A3', ct: null },
        ]}
      />,
    );
    expect(
      container.querySelectorAll('.qpcr-well path.recharts-line-curve'),
    ).toHaveLength(2);
    expect(
      container.querySelectorAll('.qpcr-ntc path.recharts-line-curve'),
    ).toHaveLength(1);
    const marks = Array.from(container.querySelectorAll('.qpcr-ct circle'));
    expect(marks).toHaveLength(2);
    // Both marks sit on the threshold line, the later Ct further right.
    const threshold = container.querySelector('.recharts-reference-line line')!;
    for (const mark of marks)
      expect(Number(mark.getAttribute('cy'))).toBeCloseTo(
        Number(threshold.getAttribute('y1')),
        5,
      );
    expect(Number(marks[1].getAttribute('cx'))).toBeGreaterThan(
      Number(marks[0].getAttribute('cx')),
    );
    expect(screen.getByRole('figure')).toHaveTextContent(
      '3 wells (1 no-template controls, dashed), threshold 0.2 RFU; 2 Ct marks.',
    );
  });
});

describe('MassPlot', () => {
  const data = { readings: [12.5, 12.502, 12.498, 12.501, 12.499], unit: 'g' };

  it('draws a point per replicate and the mean ± sd', () => {
    const { container } = renderPlot(<MassPlot data={data} />);
    expect(container.querySelectorAll('.recharts-scatter-symbol')).toHaveLength(
      5,
    );
    expect(container.querySelector('.mass-sd-band')).not.toBeNull();
    expect(screen.getByText('mean 12.5 ± 0.0016 g')).toBeInTheDocument();
  });

  it('uses the sample standard deviation', () => {
    expect(meanAndSd([1, 2, 3, 4])).toEqual({
      mean: 2.5,
      sd: Math.sqrt(5 / 3),
    });
    expect(meanAndSd([5])).toEqual({ mean: 5, sd: 0 });
  });
});

describe('RawDataPlot', () => {
  it('picks the plot by measurement type', () => {
    renderPlot(
      <RawDataPlot
        raw={{ type: 'mass-reading', data: { readings: [1, 2], unit: 'mg' } }}
      />,
    );
    expect(
      screen.getByRole('figure', { name: 'Mass replicates' }),
    ).toBeInTheDocument();
  });

  it('says so when the data does not have the shape of its type', () => {
    renderPlot(
      <RawDataPlot raw={{ type: 'plate-od', data: { od: 'broken' } }} />,
    );
    expect(screen.queryByRole('figure')).toBeNull();
    expect(screen.getByText(/cannot be plotted/)).toBeInTheDocument();
  });

  it('passes the outlier wells of the summary to the heatmap', () => {
    const { container } = renderPlot(
      <RawDataPlot
        raw={{ type: 'plate-od', data: plate(96) }}
        summary={{ outliers: [{ well: 'B2', od: 1.6 }] }}
      />,
    );
    const table = within(container).getByRole('table');
    expect(
      within(table).getByLabelText('B2: 0.51 OD (outlier)'),
    ).toBeInTheDocument();
  });
});
