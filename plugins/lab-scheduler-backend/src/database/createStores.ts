import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import { DatabaseTaskStore } from './DatabaseTaskStore';
import { DispatchStore } from './DispatchStore';
import { InstrumentCapacities } from './InstrumentCapacities';
import { RecentResultStore } from './RecentResultStore';
import { RunQueue } from './RunQueue';
import { RunStateStore } from './RunStateStore';
import { MIGRATIONS_TABLE } from './tables';

export const migrationsDir = resolvePackagePath(
  '@lab-scheduler/plugin-lab-scheduler-backend',
  'migrations',
);

/** Applies the plugin's migrations. */
export async function applyDatabaseMigrations(knex: Knex): Promise<void> {
  await knex.migrate.latest({
    directory: migrationsDir,
    tableName: MIGRATIONS_TABLE,
  });
}

/** Every store of the plugin, on one database client. */
export interface LabSchedulerStores {
  knex: Knex;
  tasks: DatabaseTaskStore;
  dispatch: DispatchStore;
  runStates: RunStateStore;
  runQueue: RunQueue;
  recentResults: RecentResultStore;
  instrumentCapacities: InstrumentCapacities;
}

export type CreateStoresOptions = (
  | {
      /** The plugin's database service; its `migrations.skip` is honoured. */
      database: DatabaseService;
    }
  | {
      /** A client of a database to use as it is (tests, benchmarks, worker processes). */
      knex: Knex;
    }
) & {
  /** Do not migrate: the schema is known to be current (e.g. another process migrated it). */
  skipMigrations?: boolean;
  /** The run state store's settings (from labScheduler.execution). */
  runStates: ConstructorParameters<typeof RunStateStore>[1];
};

/** Migrates the plugin's schema to the latest version (unless told not to) and returns its stores. */
export async function createStores(
  options: CreateStoresOptions,
): Promise<LabSchedulerStores> {
  const knex =
    'database' in options ? await options.database.getClient() : options.knex;
  const skip =
    options.skipMigrations ||
    ('database' in options && options.database.migrations?.skip);
  if (!skip) await applyDatabaseMigrations(knex);
  return {
    knex,
    tasks: new DatabaseTaskStore(knex),
    dispatch: new DispatchStore(knex),
    runStates: new RunStateStore(knex, options.runStates),
    runQueue: new RunQueue(knex),
    recentResults: new RecentResultStore(knex),
    instrumentCapacities: new InstrumentCapacities(knex),
  };
}
