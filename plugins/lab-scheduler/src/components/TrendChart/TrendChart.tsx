import {
  CartesianGrid,
  Line,
  LineChart,
  ReferenceLine,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import {
  Run,
  runOutcome,
  runOutcomeLabel,
  Task,
  measurementTypes,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Typography } from '@material-ui/core';
import { DateTime } from 'luxon';
import { PLOT_COLORS, PlotFrame, useChartSize } from '../plots/PlotFrame';
import { formatNumber, formatValue, runSummary } from '../runFormat';
import { trendMetric } from './trendMetric';
import type { MeasurementTypeInfo } from '../../api';

interface TrendPoint {
  index: number;
  value: number;
  at: string;
  qcFail: boolean;
  label: string;
}

/** A point of the trend: filled for a QC pass, a red diamond for a QC fail (shape and colour both differ). */
const TrendDot = (props: any) => {
  const { cx, cy, payload } = props;
  if (typeof cx !== 'number' || typeof cy !== 'number') return null;
  if (payload.qcFail)
    return (
      <path
        className="trend-point trend-point-fail"
        d={`M${cx},${cy - 6} L${cx + 6},${cy} L${cx},${cy + 6} L${
          cx - 6
        },${cy} Z`}
        fill={PLOT_COLORS.secondary}
      />
    );
  return (
    <circle
      className="trend-point"
      cx={cx}
      cy={cy}
      r={4}
      fill={PLOT_COLORS.primary}
    />
  );
};

/**
 * A simple control chart of a task: its key summary value across the measured runs, oldest first, with
 * the task's QC limits and the runs' mean as lines, so drift shows before it fails QC.
 */
export const TrendChart = ({
  task,
  runs,
  measurementType,
}: {
  task: Task;
  runs: Run[];
  /** The task's measurement type as the backend describes it; default: the built-in definition. */
  measurementType?: MeasurementTypeInfo;
}) => {
  const size = useChartSize(260);
  const qc = (task.measurement.parameters.qc ?? {}) as Record<string, unknown>;
  const unit = task.measurement.parameters.unit;
  const metric = trendMetric(
    measurementType ??
      (Object.hasOwn(measurementTypes, task.measurement.type)
        ? measurementTypes[task.measurement.type]
        : undefined),
    qc,
    typeof unit === 'string' ? unit : undefined,
  );
  if (!metric)
    return (
      <Typography variant="body2">
        No trend for measurement type “{task.measurement.type}”.
      </Typography>
    );
  const points: TrendPoint[] = runs
    .filter(r => r.status === 'succeeded')
    .map(r => ({ run: r, value: runSummary(r)?.[metric.key] }))
    .filter(
      (p): p is { run: Run; value: number } => typeof p.value === 'number',
    )
    .sort((a, b) => a.run.scheduledFor.localeCompare(b.run.scheduledFor))
    .map(({ run, value }, index) => ({
      index: index + 1,
      value,
      // The zone named, as every time on screen.
      at: DateTime.fromISO(run.scheduledFor).toLocaleString({
        ...DateTime.DATETIME_SHORT,
        timeZoneName: 'short',
      }),
      qcFail: runOutcome(run).kind === 'qc_fail',
      label: runOutcomeLabel(runOutcome(run)),
    }));
  if (points.length === 0)
    return (
      <Typography variant="body2">
        No measured runs yet: the trend of {metric.label.toLocaleLowerCase()}{' '}
        appears after the first one.
      </Typography>
    );
  const mean = points.reduce((a, p) => a + p.value, 0) / points.length;
  const fails = points.filter(p => p.qcFail).length;
  const limits = [
    metric.lower !== undefined &&
      `lower limit ${formatValue(metric.lower, metric.unit)}`,
    metric.upper !== undefined &&
      `upper limit ${formatValue(metric.upper, metric.unit)}`,
  ].filter(Boolean);
  return (
    <PlotFrame
      title={`Trend of ${metric.label.toLocaleLowerCase()}`}
      caption={`${metric.label} of the last ${points.length} measured run${
        points.length === 1 ? '' : 's'
      }, oldest first; mean ${formatValue(mean, metric.unit)}${
        limits.length
          ? `; QC ${limits.join(', ')}`
          : '; the task sets no QC limits'
      }${
        fails
          ? `; ${fails} QC fail${fails === 1 ? '' : 's'} (red diamonds)`
          : ''
      }.`}
    >
      <LineChart
        {...size}
        data={points}
        margin={{ top: 16, right: 16, bottom: 8, left: 0 }}
      >
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis
          dataKey="index"
          type="number"
          domain={[1, 'dataMax']}
          allowDecimals={false}
        />
        <YAxis
          width={56}
          domain={['auto', 'auto']}
          tickFormatter={formatNumber}
        />
        <Tooltip
          labelFormatter={(_: any, items: any) => {
            const p: TrendPoint | undefined = items?.[0]?.payload;
            return p ? `${p.at} · ${p.label}` : '';
          }}
          formatter={(v: any) => [
            formatValue(Number(v), metric.unit),
            metric.label,
          ]}
        />
        <ReferenceLine
          className="trend-mean"
          y={mean}
          stroke={PLOT_COLORS.muted}
          strokeDasharray="2 4"
          label={{ value: 'mean', position: 'insideTopLeft' }}
        />
        {metric.lower !== undefined && (
          <ReferenceLine
            className="trend-limit"
            y={metric.lower}
            stroke={PLOT_COLORS.limit}
            strokeDasharray="6 3"
            ifOverflow="extendDomain"
            label={{
              value: `min ${formatValue(metric.lower, metric.unit)}`,
              position: 'insideBottomRight',
            }}
          />
        )}
        {metric.upper !== undefined && (
          <ReferenceLine
            className="trend-limit"
            y={metric.upper}
            stroke={PLOT_COLORS.limit}
            strokeDasharray="6 3"
            ifOverflow="extendDomain"
            label={{
              value: `max ${formatValue(metric.upper, metric.unit)}`,
              position: 'insideTopRight',
            }}
          />
        )}
        <Line
          dataKey="value"
          name={metric.label}
          stroke={PLOT_COLORS.primary}
          dot={<TrendDot />}
          isAnimationActive={false}
        />
      </LineChart>
    </PlotFrame>
  );
};
