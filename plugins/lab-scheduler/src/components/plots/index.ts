export { RawDataPlot } from './RawDataPlot';
export { FixedPlotWidthContext } from './PlotFrame';
export type { RawMeasurementDocument } from './rawData';
