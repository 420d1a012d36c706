import { AuthService } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  DEFAULT_INSTRUMENT_CAPACITY,
  getInstrumentCapacity,
  getSupportedMeasurementTypes,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import type { FieldError } from '@lab-scheduler/plugin-lab-scheduler-common';

/** The part of the catalog service the plugin uses: looking up an entity by ref. */
export interface CatalogLookup {
  getEntityByRef(
    ref: string,
    options: { credentials: any },
  ): Promise<Entity | undefined>;
}

export interface InstrumentCatalogOptions {
  catalog: CatalogLookup;
  auth: AuthService;
  /** Entity kind of instruments (case-insensitive). */
  kind: string;
  /** Required `spec.type` of instruments, or undefined for any. */
  type?: string;
  /** When false, instrument refs are not checked against the catalog. */
  validate: boolean;
  /**
   * Whether runs on the instrument would find a driver (see `labScheduler.execution.simulated.allowed`);
   * tasks on instruments without one are refused. Default: every instrument has one.
   */
  hasDriver?: (instrumentRef: string) => boolean;
}

/**
 * Checks that an instrument ref names an instrument in the catalog and that it supports a measurement
 * type (its `lab-scheduler.io/measurement-types` annotation; an instrument without it supports any type).
 */
export class InstrumentCatalog {
  constructor(private readonly options: InstrumentCatalogOptions) {}

  /** Whether instruments are looked up in the catalog (config `validateWithCatalog`). */
  get enabled(): boolean {
    return this.options.validate;
  }

  /**
   * How many runs the instrument takes at once (its capacity annotation; null: no limit). Without
   * catalog validation, or for an unknown entity, the default.
   */
  async capacity(instrumentRef: string): Promise<number | null> {
    const entity = await this.lookup(instrumentRef);
    return entity ? getInstrumentCapacity(entity) : DEFAULT_INSTRUMENT_CAPACITY;
  }

  private async lookup(instrumentRef: string): Promise<Entity | undefined> {
    if (!this.options.validate) return undefined;
    const credentials = await this.options.auth.getOwnServiceCredentials();
    return this.options.catalog.getEntityByRef(instrumentRef, { credentials });
  }

  async validate(
    instrumentRef: string,
    measurementType: string,
  ): Promise<FieldError[]> {
    if (this.options.hasDriver && !this.options.hasDriver(instrumentRef)) {
      return [
        {
          path: 'instrumentRef',
          message:
            `no instrument driver is configured for '${instrumentRef}': add it to ` +
            'labScheduler.execution.instruments, or allow simulated measurements with ' +
            'labScheduler.execution.simulated.allowed: true',
        },
      ];
    }
    if (!this.options.validate) return [];
    const entity = await this.lookup(instrumentRef);
    const { kind, type } = this.options;
    if (
      !entity ||
      entity.kind.toLocaleLowerCase('en-US') !==
        kind.toLocaleLowerCase('en-US') ||
      (type !== undefined && (entity.spec as { type?: unknown })?.type !== type)
    ) {
      return [
        {
          path: 'instrumentRef',
          message: `'${instrumentRef}' is not an instrument in the catalog (expected a ${kind}${
            type ? ` with spec.type '${type}'` : ''
          })`,
        },
      ];
    }
    const supported = getSupportedMeasurementTypes(entity);
    if (supported.length > 0 && !supported.includes(measurementType)) {
      return [
        {
          path: 'measurement.type',
          message: `'${measurementType}' is not supported by ${stringifyEntityRef(
            entity,
          )}, which supports: ${supported.join(', ')}`,
        },
      ];
    }
    return [];
  }
}
