import {
  CartesianGrid,
  Line,
  LineChart,
  ReferenceDot,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { formatNumber } from '../runFormat';
import { PLOT_COLORS, PlotFrame, useChartSize } from './PlotFrame';
import type { SpectrumData } from './rawData';

/** Index of the highest absorbance: the peak, as the executor finds it (first maximum). */
export function peakIndex(absorbance: number[]): number {
  let peak = 0;
  absorbance.forEach((a, i) => {
    if (a > absorbance[peak]) peak = i;
  });
  return peak;
}

/** An absorbance spectrum as a line over wavelength, with the peak marked and named. */
export const SpectrumPlot = ({ data }: { data: SpectrumData }) => {
  const size = useChartSize(320);
  const points = data.wavelengthNm.map((nm, i) => ({
    nm,
    absorbance: data.absorbance[i],
  }));
  const peak = points[peakIndex(data.absorbance)];
  return (
    <PlotFrame
      title="Absorbance spectrum"
      data-peak-nm={peak?.nm}
      caption={
        peak &&
        `Peak at ${peak.nm} nm, ${formatNumber(peak.absorbance)} AU (${
          points.length
        } points).`
      }
    >
      <LineChart
        {...size}
        data={points}
        margin={{ top: 32, right: 16, bottom: 16, left: 0 }}
      >
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis
          dataKey="nm"
          type="number"
          domain={['dataMin', 'dataMax']}
          unit=" nm"
          tickCount={6}
        />
        {/* From zero: a spectrum's baseline noise dips below it, which would pull the axis to negative ticks. */}
        <YAxis
          width={56}
          domain={[0, 'auto']}
          allowDataOverflow
          tickFormatter={formatNumber}
        />
        <Tooltip
          formatter={(v: any) => [
            `${formatNumber(Number(v))} AU`,
            'Absorbance',
          ]}
          labelFormatter={(nm: any) => `${nm} nm`}
        />
        <Line
          dataKey="absorbance"
          name="Absorbance"
          stroke={PLOT_COLORS.primary}
          dot={false}
          isAnimationActive={false}
        />
        {peak && (
          <ReferenceDot
            className="spectrum-peak"
            x={peak.nm}
            y={peak.absorbance}
            r={6}
            fill={PLOT_COLORS.marker}
            stroke="#fff"
            label={{
              value: `Peak ${peak.nm} nm`,
              position: 'top',
              fill: PLOT_COLORS.marker,
            }}
          />
        )}
      </LineChart>
    </PlotFrame>
  );
};
