export { EmfMetricExporter } from './EmfMetricExporter';
export type { EmfMetricExporterOptions } from './EmfMetricExporter';
