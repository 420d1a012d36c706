import type {
  MeasurementTypeDefinition,
  MeasurementTypeLookup,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import type { RawMeasurement } from '../drivers/InstrumentDriver';
import type { ProcessedMeasurement } from './qc';

/**
 * One measurement type, whole: what the API, the form and validation know of it (`definition`: title,
 * parameter schema, expected duration, units), how a simulated instrument produces its raw data, and how
 * raw data becomes a summary and a QC verdict. The built-in types are written this way (builtIn/), and a
 * backend module adds its own through `measurementTypesExtensionPoint` (`-node/alpha`); the Lambda takes
 * the same objects (lambda/src/modules.ts).
 *
 * @public
 */
export interface MeasurementType {
  readonly definition: MeasurementTypeDefinition;
  /**
   * Raw data a simulated instrument would give for these parameters (already validated and defaulted by
   * `definition.parameters`). `random` is seeded by the run, so a run's data is reproducible. Absent: the
   * simulated driver refuses the type (a real driver must measure it).
   */
  simulate?(
    parameters: Record<string, any>,
    random: () => number,
  ): { units: Record<string, string>; data: Record<string, unknown> };
  /** Raw data (from any driver) into a bounded summary and a QC verdict against `parameters.qc`. */
  process(
    raw: RawMeasurement,
    parameters: Record<string, any>,
  ): ProcessedMeasurement;
}

/**
 * A run names a measurement type this backend or Lambda does not run (its module is missing here).
 * Final: another delivery would fail the same way.
 * @public
 */
export class UnknownMeasurementTypeError extends Error {
  constructor(type: string, known: string[]) {
    super(
      `Measurement type '${type}' is not registered here (known: ${known.join(
        ', ',
      )}); install the module that adds it in this backend or Lambda`,
    );
    this.name = 'UnknownMeasurementTypeError';
  }
}

/**
 * The measurement types of one backend or Lambda, by name. It is also the lookup validation and the
 * calendar use (MeasurementTypeLookup), so what is validated is exactly what can be processed.
 * @public
 */
export class MeasurementTypeRegistry implements MeasurementTypeLookup {
  private readonly byType = new Map<string, MeasurementType>();

  constructor(types: Iterable<MeasurementType>) {
    for (const measurementType of types) {
      const name = measurementType.definition.type;
      if (this.byType.has(name)) {
        throw new Error(
          `Measurement type '${name}' is registered twice; a module must not replace a built-in type or another module's`,
        );
      }
      this.byType.set(name, measurementType);
    }
  }

  get(type: string): MeasurementTypeDefinition | undefined {
    return this.byType.get(type)?.definition;
  }

  list(): MeasurementTypeDefinition[] {
    return [...this.byType.values()].map(t => t.definition);
  }

  /** @throws UnknownMeasurementTypeError when the type is not registered. */
  measurementType(type: string): MeasurementType {
    const found = this.byType.get(type);
    if (!found)
      throw new UnknownMeasurementTypeError(type, [...this.byType.keys()]);
    return found;
  }

  /** Processes raw data with its type's processing and QC. */
  process(
    raw: RawMeasurement,
    parameters: Record<string, any>,
  ): ProcessedMeasurement {
    return this.measurementType(raw.type).process(raw, parameters);
  }
}

/**
 * The registry of a backend or Lambda: the built-in types, then those its modules add.
 * @public
 */
export function createMeasurementTypeRegistry(
  builtIn: Iterable<MeasurementType>,
  moduleTypes: Iterable<MeasurementType> = [],
): MeasurementTypeRegistry {
  return new MeasurementTypeRegistry([...builtIn, ...moduleTypes]);
}
