import {
  CartesianGrid,
  Line,
  LineChart,
  ReferenceDot,
  ReferenceLine,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { formatNumber } from '../runFormat';
import { PLOT_COLORS, PlotFrame, useChartSize } from './PlotFrame';
import type { QpcrData } from './rawData';

/**
 * Amplification curves, one per well (no-template controls dashed and grey), the fluorescence threshold,
 * and each well's Ct — as the executor computed it (`summary.ct`) — marked where its curve crosses the
 * threshold.
 */
export const QpcrPlot = ({
  data,
  cts = [],
}: {
  data: QpcrData;
  cts?: { well: string; ct: number | null }[];
}) => {
  const size = useChartSize(360);
  const cycles = Math.max(0, ...data.wells.map(w => w.fluorescence.length));
  // Well names can repeat past 192 wells in simulated data; series keys are by position.
  const rows = Array.from({ length: cycles }, (_, i) => {
    const row: Record<string, number> = { cycle: i + 1 };
    data.wells.forEach((w, j) => {
      row[`w${j}`] = w.fluorescence[i];
    });
    return row;
  });
  const marks = cts.filter(
    (c): c is { well: string; ct: number } => typeof c.ct === 'number',
  );
  const ntc = data.wells.filter(w => w.sample === 'ntc').length;
  return (
    <PlotFrame
      title="qPCR amplification curves"
      caption={`${
        data.wells.length
      } wells (${ntc} no-template controls, dashed), threshold ${formatNumber(
        data.threshold,
      )} RFU; ${marks.length} Ct marks.`}
    >
      <LineChart
        {...size}
        data={rows}
        margin={{ top: 16, right: 16, bottom: 16, left: 0 }}
      >
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis
          dataKey="cycle"
          type="number"
          domain={[1, Math.max(cycles, 1)]}
          label={{ value: 'Cycle', position: 'insideBottom', offset: -8 }}
        />
        <YAxis width={48} tickFormatter={formatNumber} unit="" />
        <Tooltip
          labelFormatter={(c: any) => `Cycle ${c}`}
          formatter={(v: any, key: any) => [
            `${formatNumber(Number(v))} RFU`,
            data.wells[Number(String(key).slice(1))]?.well ?? key,
          ]}
        />
        {data.wells.map((w, j) => (
          <Line
            key={j}
            dataKey={`w${j}`}
            className={w.sample === 'ntc' ? 'qpcr-ntc' : 'qpcr-well'}
            stroke={
              w.sample === 'ntc' ? PLOT_COLORS.muted : PLOT_COLORS.primary
            }
            strokeOpacity={w.sample === 'ntc' ? 1 : 0.45}
            strokeDasharray={w.sample === 'ntc' ? '4 3' : undefined}
            dot={false}
            activeDot={false}
            isAnimationActive={false}
          />
        ))}
        <ReferenceLine
          y={data.threshold}
          stroke={PLOT_COLORS.limit}
          strokeDasharray="6 3"
          label={{ value: 'threshold', position: 'insideTopLeft' }}
        />
        {marks.map((c, i) => (
          <ReferenceDot
            key={i}
            className="qpcr-ct"
            x={c.ct}
            y={data.threshold}
            r={3}
            fill={PLOT_COLORS.marker}
            stroke="none"
          />
        ))}
      </LineChart>
    </PlotFrame>
  );
};
