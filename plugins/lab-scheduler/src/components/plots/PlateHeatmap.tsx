import { makeStyles } from '@material-ui/core';
import { formatNumber } from '../runFormat';
import { PlotFrame } from './PlotFrame';
import type { PlateData } from './rawData';

// Viridis stops: perceptually even, readable by most colour-blind viewers, dark-to-light in greyscale.
const STOPS = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'];

/** The heatmap colour of a value in [min, max]. */
export function heatColor(value: number, min: number, max: number): string {
  const t =
    max > min ? Math.min(1, Math.max(0, (value - min) / (max - min))) : 0.5;
  const scaled = t * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(scaled));
  const mix = (a: string, b: string, f: number) =>
    Math.round(parseInt(a, 16) + (parseInt(b, 16) - parseInt(a, 16)) * f)
      .toString(16)
      .padStart(2, '0');
  const [from, to] = [STOPS[i].slice(1), STOPS[i + 1].slice(1)];
  const f = scaled - i;
  return `#${mix(from.slice(0, 2), to.slice(0, 2), f)}${mix(
    from.slice(2, 4),
    to.slice(2, 4),
    f,
  )}${mix(from.slice(4, 6), to.slice(4, 6), f)}`;
}

const useStyles = makeStyles(theme => ({
  // A CSS grid rather than an HTML table: table cells cannot keep their wells square.
  grid: {
    display: 'grid',
    gap: 1,
    width: '100%',
    maxWidth: 720,
    alignItems: 'center',
  },
  row: { display: 'contents' },
  header: {
    fontSize: 10,
    lineHeight: 1.2,
    color: theme.palette.text.secondary,
    textAlign: 'center',
    overflow: 'hidden',
  },
  cell: { aspectRatio: '1 / 1', minWidth: 0 },
  outlier: {
    outline: `2px solid ${theme.palette.error.main}`,
    outlineOffset: -2,
  },
  legend: {
    display: 'flex',
    alignItems: 'center',
    gap: 8,
    marginTop: 8,
    fontSize: 12,
  },
  gradient: {
    flex: '0 1 200px',
    height: 10,
    background: `linear-gradient(to right, ${STOPS.join(', ')})`,
  },
}));

/**
 * A micro-plate's optical densities as a well grid (96 or 384 wells): rows A…, columns 1…, each well
 * coloured by its OD on one scale, with the value in its name. Outliers the executor found are outlined.
 */
export const PlateHeatmap = ({
  data,
  outliers = [],
  unit = 'OD',
}: {
  data: PlateData;
  outliers?: string[];
  unit?: string;
}) => {
  const classes = useStyles();
  const values = data.od.flat();
  const min = Math.min(...values);
  const max = Math.max(...values);
  const outlierSet = new Set(outliers);
  const cols = data.od[0]?.length ?? 0;
  return (
    <PlotFrame
      title={`Plate heatmap, ${data.od.length * cols} wells`}
      caption={`Optical density at ${data.wavelengthNm} nm; ${
        outliers.length
      } outlier well${outliers.length === 1 ? '' : 's'} outlined.`}
    >
      <div
        role="table"
        aria-label="Well optical densities"
        className={classes.grid}
        style={{ gridTemplateColumns: `1.5em repeat(${cols}, minmax(0, 1fr))` }}
      >
        <div role="row" className={classes.row}>
          <span role="columnheader" aria-label="Row" />
          {Array.from({ length: cols }, (_, c) => (
            <span key={c} role="columnheader" className={classes.header}>
              {c + 1}
            </span>
          ))}
        </div>
        {data.od.map((row, r) => {
          const rowLabel = data.rowLabels[r] ?? String(r + 1);
          return (
            <div key={rowLabel} role="row" className={classes.row}>
              <span role="rowheader" className={classes.header}>
                {rowLabel}
              </span>
              {row.map((value, c) => {
                const well = `${rowLabel}${c + 1}`;
                const name = `${well}: ${formatNumber(value)} ${unit}${
                  outlierSet.has(well) ? ' (outlier)' : ''
                }`;
                return (
                  <span
                    key={well}
                    role="cell"
                    data-well={well}
                    data-od={value}
                    title={name}
                    aria-label={name}
                    className={`${classes.cell} ${
                      outlierSet.has(well) ? classes.outlier : ''
                    }`}
                    style={{ background: heatColor(value, min, max) }}
                  />
                );
              })}
            </div>
          );
        })}
      </div>
      <div className={classes.legend} aria-hidden>
        <span>{formatNumber(min)}</span>
        <span className={classes.gradient} />
        <span>
          {formatNumber(max)} {unit}
        </span>
      </div>
    </PlotFrame>
  );
};
