import {
  CartesianGrid,
  ComposedChart,
  ReferenceArea,
  ReferenceLine,
  Scatter,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { formatNumber } from '../runFormat';
import { PLOT_COLORS, PlotFrame, useChartSize } from './PlotFrame';
import type { MassData } from './rawData';

/** Mean and sample standard deviation, as the executor computes them. */
export function meanAndSd(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
  const sd =
    xs.length < 2
      ? 0
      : Math.sqrt(
          xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1),
        );
  return { mean, sd };
}

/** Replicate readings as points, the mean as a line and mean ± sd as a band. */
export const MassPlot = ({ data }: { data: MassData }) => {
  const size = useChartSize(300);
  const points = data.readings.map((mass, i) => ({ replicate: i + 1, mass }));
  const { mean, sd } = meanAndSd(data.readings);
  const text = `${formatNumber(mean)} ± ${formatNumber(sd)} ${data.unit}`;
  return (
    <PlotFrame
      title="Mass replicates"
      caption={`${points.length} replicates; mean ± sd ${text}.`}
    >
      <ComposedChart
        {...size}
        data={points}
        margin={{ top: 24, right: 16, bottom: 16, left: 16 }}
      >
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis
          dataKey="replicate"
          type="number"
          domain={[0.5, points.length + 0.5]}
          allowDecimals={false}
          tickCount={Math.min(points.length, 10)}
          label={{ value: 'Replicate', position: 'insideBottom', offset: -8 }}
        />
        <YAxis
          width={72}
          domain={['auto', 'auto']}
          tickFormatter={formatNumber}
          unit={` ${data.unit}`}
        />
        <Tooltip
          formatter={(v: any) => [
            `${formatNumber(Number(v))} ${data.unit}`,
            'Mass',
          ]}
        />
        {sd > 0 && (
          <ReferenceArea
            className="mass-sd-band"
            y1={mean - sd}
            y2={mean + sd}
            fill={PLOT_COLORS.primary}
            fillOpacity={0.12}
            ifOverflow="extendDomain"
          />
        )}
        <ReferenceLine
          className="mass-mean"
          y={mean}
          stroke={PLOT_COLORS.primary}
          label={{ value: `mean ${text}`, position: 'top' }}
        />
        <Scatter
          dataKey="mass"
          name="Mass"
          fill={PLOT_COLORS.marker}
          isAnimationActive={false}
        />
      </ComposedChart>
    </PlotFrame>
  );
};
