import { createContext, ReactNode, useContext } from 'react';
import { Typography } from '@material-ui/core';

/**
 * A fixed chart width for environments without layout (jsdom): charts otherwise size themselves to their
 * container with recharts' `responsive`, which measures nothing in jsdom and so draws nothing.
 */
export const FixedPlotWidthContext = createContext<number | undefined>(
  undefined,
);

/** Size props for a recharts chart: the container's width, or the fixed width of the context. */
export function useChartSize(height: number) {
  const fixed = useContext(FixedPlotWidthContext);
  return fixed
    ? { width: fixed, height }
    : { responsive: true, style: { width: '100%', height } };
}

/** A plot with a caption naming what it shows, so the figure has a name for screen readers and tests. */
export const PlotFrame = ({
  title,
  caption,
  children,
  ...data
}: {
  title: string;
  caption?: ReactNode;
  children: ReactNode;
  [dataAttribute: `data-${string}`]: string | number | undefined;
}) => (
  <figure
    aria-label={title}
    style={{ margin: 0, width: '100%', minWidth: 0 }}
    {...data}
  >
    {children}
    {caption && (
      <Typography
        component="figcaption"
        variant="caption"
        color="textSecondary"
      >
        {caption}
      </Typography>
    )}
  </figure>
);

/** Colours of the plots: distinguishable in greyscale by dash pattern as well. */
export const PLOT_COLORS = {
  primary: '#1565c0',
  secondary: '#c62828',
  marker: '#a33d00',
  limit: '#6a1b9a',
  muted: '#78909c',
};
