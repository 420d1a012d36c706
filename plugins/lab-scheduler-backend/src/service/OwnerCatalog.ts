import { AuthService } from '@backstage/backend-plugin-api';
import type { FieldError } from '@lab-scheduler/plugin-lab-scheduler-common';
import { CatalogLookup } from './InstrumentCatalog';

/** Entity kinds that can own a task. */
export const OWNER_KINDS = ['user', 'group'];

export interface OwnerCatalogOptions {
  catalog: CatalogLookup;
  auth: AuthService;
  /** When false, owners are not looked up in the catalog (their kind is still checked). */
  validate: boolean;
}

/** The kind part of a full entity ref, lower-cased. */
export function kindOf(entityRef: string): string {
  return entityRef.slice(0, entityRef.indexOf(':')).toLocaleLowerCase('en-US');
}

/** Errors when a ref cannot own a task at all (not a user or group), whatever the catalog holds. */
export function ownerRefErrors(ownerRef: string): FieldError[] {
  if (OWNER_KINDS.includes(kindOf(ownerRef))) return [];
  return [
    {
      path: 'owner',
      message: `'${ownerRef}' is not an owner ref: a task is owned by a user or group (user:namespace/name or group:namespace/name)`,
    },
  ];
}

/**
 * Checks that a task owner is a user or group that exists in the catalog: an owner nobody can sign in as
 * (or belong to) would leave a task only services can change.
 */
export class OwnerCatalog {
  constructor(private readonly options: OwnerCatalogOptions) {}

  async validate(ownerRef: string): Promise<FieldError[]> {
    const refErrors = ownerRefErrors(ownerRef);
    if (refErrors.length > 0 || !this.options.validate) return refErrors;
    const credentials = await this.options.auth.getOwnServiceCredentials();
    const entity = await this.options.catalog.getEntityByRef(ownerRef, {
      credentials,
    });
    if (!entity || !OWNER_KINDS.includes(kindOf(`${entity.kind}:`))) {
      return [
        {
          path: 'owner',
          message: `'${ownerRef}' does not exist in the catalog`,
        },
      ];
    }
    return [];
  }
}
