/**
 * Extension points of the Lab Scheduler backend plugin.
 *
 * @packageDocumentation
 */
import { createExtensionPoint } from '@backstage/backend-plugin-api';
import type { InstrumentDriverFactory } from './drivers/InstrumentDriverFactory';
import type { MeasurementType } from './measurementTypes/MeasurementType';

/** @alpha */
export interface InstrumentDriversExtensionPoint {
  /** Adds a kind of instrument driver, selected by `labScheduler.execution.instruments[].driver`. */
  addDriverFactory(factory: InstrumentDriverFactory): void;
}

/**
 * Instrument drivers beyond the built-in `simulated`, added by backend modules of the `lab-scheduler`
 * plugin: `http` by `@lab-scheduler/plugin-lab-scheduler-backend-module-http-gateway`, or your own.
 *
 * @alpha
 */
export const instrumentDriversExtensionPoint =
  createExtensionPoint<InstrumentDriversExtensionPoint>({
    id: 'lab-scheduler.instrument-drivers',
  });

/** @alpha */
export interface MeasurementTypesExtensionPoint {
  /**
   * Adds a measurement type: its parameter schema (validation and the form), processing and QC,
   * simulation and units. A name already registered (built in or by another module) fails the backend's
   * start-up.
   */
  addMeasurementType(measurementType: MeasurementType): void;
}

/**
 * Measurement types beyond the built-in ones, added by backend modules of the `lab-scheduler` plugin.
 * The UI reads them from `GET /measurement-types`, so a new type needs no frontend build.
 *
 * @alpha
 */
export const measurementTypesExtensionPoint =
  createExtensionPoint<MeasurementTypesExtensionPoint>({
    id: 'lab-scheduler.measurement-types',
  });
