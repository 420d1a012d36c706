/**
 * The Lab Scheduler measurement executor, shared by the backend's in-process queue and the Lambda.
 *
 * @packageDocumentation
 */
export * from './drivers/InstrumentDriver';
export * from './drivers/InstrumentDriverFactory';
export { SimulatedInstrumentDriver } from './drivers/SimulatedInstrumentDriver';
export type { SimulatedDriverOptions } from './drivers/SimulatedInstrumentDriver';
export * from './measurementTypes';
export * from './processing/processMeasurement';
export * from './storage/RawDataStore';
export * from './reporting/RunReporter';
export * from './reporting/serviceToken';
export * from './MeasurementExecutor';
export * from './metrics';
