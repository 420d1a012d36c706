import { screen } from '@testing-library/react';
import { SpectrumPlot } from './SpectrumPlot';
import { pathPoints, renderPlot } from './__testUtils__/renderPlot';

const data = {
  wavelengthNm: [230, 240, 250, 260, 270, 280, 290, 300],
  absorbance: [0.2, 0.5, 0.9, 1.2, 1.0, 0.7, 0.3, 0.1],
};

describe('SpectrumPlot', () => {
  it('draws the spectrum as one line through every point', () => {
    const { container } = renderPlot(<SpectrumPlot data={data} />);
    const lines = container.querySelectorAll('path.recharts-line-curve');
    expect(lines).toHaveLength(1);
    expect(pathPoints(lines[0].getAttribute('d'))).toHaveLength(8);
  });

  it('marks the peak at the highest point of the line and names it', () => {
    const { container } = renderPlot(<SpectrumPlot data={data} />);
    const points = pathPoints(
      container.querySelector('path.recharts-line-curve')!.getAttribute('d'),
    );
    // SVG y grows downwards: the highest absorbance is the smallest y.
    const top = points.reduce((a, b) => (b.y < a.y ? b : a));
    const marker = container.querySelector('.spectrum-peak circle')!;
    expect(Number(marker.getAttribute('cx'))).toBeCloseTo(top.x, 5);
    expect(Number(marker.getAttribute('cy'))).toBeCloseTo(top.y, 5);
    expect(points.indexOf(top)).toBe(3);
    expect(screen.getByText('Peak 260 nm')).toBeInTheDocument();
    expect(
      screen.getByRole('figure', { name: 'Absorbance spectrum' }),
    ).toHaveTextContent('Peak at 260 nm, 1.2 AU (8 points).');
  });
});
