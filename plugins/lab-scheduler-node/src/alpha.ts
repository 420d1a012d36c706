/**
 * Extension points of the Lab Scheduler backend plugin.
 *
 * @packageDocumentation
 */
import { createExtensionPoint } from '@backstage/backend-plugin-api';
import type { InstrumentDriverFactory } from './drivers/InstrumentDriverFactory';

/** @alpha */
export interface InstrumentDriversExtensionPoint {
  /** Adds a kind of instrument driver, selected by `labScheduler.execution.instruments[].driver`. */
  addDriverFactory(factory: InstrumentDriverFactory): void;
}

/**
 * Instrument drivers beyond the built-in `http` gateway and `simulated`, added by backend modules of
 * the `lab-scheduler` plugin.
 *
 * @alpha
 */
export const instrumentDriversExtensionPoint =
  createExtensionPoint<InstrumentDriversExtensionPoint>({
    id: 'lab-scheduler.instrument-drivers',
  });
