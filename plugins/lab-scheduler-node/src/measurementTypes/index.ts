export * from './MeasurementType';
export { QcChecks } from './qc';
export type { ProcessedMeasurement, QcCheck, QcVerdict } from './qc';
export { builtInMeasurementTypes } from './builtIn';
