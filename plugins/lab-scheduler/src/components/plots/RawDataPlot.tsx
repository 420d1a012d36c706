import { Typography } from '@material-ui/core';
import { MassPlot } from './MassPlot';
import { PhTimeSeriesPlot } from './PhTimeSeriesPlot';
import { PlateHeatmap } from './PlateHeatmap';
import { QpcrPlot } from './QpcrPlot';
import { rawDataGuards, RawMeasurementDocument } from './rawData';
import { SpectrumPlot } from './SpectrumPlot';

/** The plot for a run's raw data, chosen by measurement type; a note when the data cannot be plotted. */
export const RawDataPlot = ({
  raw,
  summary = {},
  qc = {},
}: {
  raw: RawMeasurementDocument;
  /** The run's summary: the Ct values and outlier wells the executor found. */
  summary?: Record<string, unknown>;
  /** The task's QC thresholds (`parameters.qc`), drawn where the plot has the axis for them. */
  qc?: Record<string, unknown>;
}) => {
  const d = raw.data;
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  switch (raw.type) {
    case 'absorbance-spectrum':
      if (rawDataGuards['absorbance-spectrum'](d))
        return <SpectrumPlot data={d} />;
      break;
    case 'plate-od':
      if (rawDataGuards['plate-od'](d))
        return (
          <PlateHeatmap
            data={d}
            unit={raw.units?.od}
            outliers={
              Array.isArray(summary.outliers)
                ? summary.outliers.map((o: any) => String(o?.well))
                : []
            }
          />
        );
      break;
    case 'ph-timeseries':
      if (rawDataGuards['ph-timeseries'](d))
        return (
          <PhTimeSeriesPlot
            data={d}
            limits={{ minPh: num(qc.minPh), maxPh: num(qc.maxPh) }}
          />
        );
      break;
    case 'qpcr-amplification':
      if (rawDataGuards['qpcr-amplification'](d))
        return (
          <QpcrPlot
            data={d}
            cts={Array.isArray(summary.ct) ? (summary.ct as any[]) : []}
          />
        );
      break;
    case 'mass-reading':
      if (rawDataGuards['mass-reading'](d)) return <MassPlot data={d} />;
      break;
    default:
      return (
        <Typography variant="body2">
          No plot for measurement type “{raw.type}”: download the raw data to
          look at it.
        </Typography>
      );
  }
  return (
    <Typography variant="body2">
      The raw data does not have the shape of a “{raw.type}” measurement, so it
      cannot be plotted: download it to look at it.
    </Typography>
  );
};
