import type { RawMeasurement } from '../drivers/InstrumentDriver';
import { builtInMeasurementTypes } from '../measurementTypes/builtIn';
import { MeasurementTypeRegistry } from '../measurementTypes/MeasurementType';
import type { ProcessedMeasurement } from '../measurementTypes/qc';

const builtIn = new MeasurementTypeRegistry(builtInMeasurementTypes);

/**
 * Turns raw data of a built-in measurement type into a bounded summary and a QC verdict against the
 * thresholds in `parameters.qc`. A backend or Lambda with module types processes through its
 * MeasurementTypeRegistry instead.
 * @public
 */
export function processMeasurement(
  raw: RawMeasurement,
  parameters: Record<string, any>,
): ProcessedMeasurement {
  return builtIn.process(raw, parameters);
}
