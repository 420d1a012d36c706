import { ReactElement } from 'react';
import { render } from '@testing-library/react';
import { FixedPlotWidthContext } from '../PlotFrame';

/** Renders a plot at a fixed width: jsdom has no layout for the charts to measure. */
export function renderPlot(plot: ReactElement) {
  return render(
    <FixedPlotWidthContext.Provider value={600}>
      {plot}
    </FixedPlotWidthContext.Provider>,
  );
}

/** The points of an SVG path's "M x,y L x,y …" (recharts' linear lines), in drawing order. */
export function pathPoints(d: string | null): { x: number; y: number }[] {
  return Array.from(
    (d ?? '').matchAll(/[ML]\s*(-?[\d.]+)[ ,](-?[\d.]+)/g),
    m => ({ x: Number(m[1]), y: Number(m[2]) }),
  );
}
