import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { formatNumber, humanDuration } from '../runFormat';
import { PLOT_COLORS, PlotFrame, useChartSize } from './PlotFrame';
import type { PhSeriesData } from './rawData';

/** pH over time on the left axis, the temperature on the right one; the task's pH limits as lines. */
export const PhTimeSeriesPlot = ({
  data,
  limits = {},
}: {
  data: PhSeriesData;
  limits?: { minPh?: number; maxPh?: number };
}) => {
  const size = useChartSize(320);
  const points = data.tSeconds.map((t, i) => ({
    t,
    ph: data.ph[i],
    temperature: data.temperatureC?.[i],
  }));
  const hasTemperature = points.some(p => typeof p.temperature === 'number');
  const last = data.tSeconds[data.tSeconds.length - 1] ?? 0;
  return (
    <PlotFrame
      title="pH time series"
      caption={`${points.length} samples over ${humanDuration(last * 1000)}${
        hasTemperature ? ', with the temperature' : ''
      }.`}
    >
      <LineChart
        {...size}
        data={points}
        margin={{ top: 16, right: 8, bottom: 16, left: 0 }}
      >
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis
          dataKey="t"
          type="number"
          unit=" s"
          domain={['dataMin', 'dataMax']}
        />
        <YAxis
          yAxisId="ph"
          width={48}
          domain={['auto', 'auto']}
          tickFormatter={formatNumber}
          label={{ value: 'pH', angle: -90, position: 'insideLeft' }}
        />
        {hasTemperature && (
          <YAxis
            yAxisId="temperature"
            orientation="right"
            width={64}
            domain={['auto', 'auto']}
            tickFormatter={formatNumber}
            unit="°C"
          />
        )}
        <Tooltip labelFormatter={(t: any) => `${t} s`} />
        <Legend />
        <Line
          yAxisId="ph"
          dataKey="ph"
          name="pH"
          className="ph-line"
          stroke={PLOT_COLORS.primary}
          dot={false}
          isAnimationActive={false}
        />
        {hasTemperature && (
          <Line
            yAxisId="temperature"
            dataKey="temperature"
            name="Temperature (°C)"
            className="temperature-line"
            stroke={PLOT_COLORS.secondary}
            strokeDasharray="6 3"
            dot={false}
            isAnimationActive={false}
          />
        )}
        {limits.minPh !== undefined && (
          <ReferenceLine
            yAxisId="ph"
            y={limits.minPh}
            stroke={PLOT_COLORS.limit}
            strokeDasharray="4 4"
            label={`min pH ${limits.minPh}`}
            ifOverflow="extendDomain"
          />
        )}
        {limits.maxPh !== undefined && (
          <ReferenceLine
            yAxisId="ph"
            y={limits.maxPh}
            stroke={PLOT_COLORS.limit}
            strokeDasharray="4 4"
            label={`max pH ${limits.maxPh}`}
            ifOverflow="extendDomain"
          />
        )}
      </LineChart>
    </PlotFrame>
  );
};
