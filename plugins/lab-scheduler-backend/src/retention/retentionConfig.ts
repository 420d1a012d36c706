import { Config } from '@backstage/config';

/** `labScheduler.retention` with its defaults (see config.d.ts). */
export interface RunRetentionSettings {
  /** Finished runs are kept this many days after they finished. */
  keepFinishedRunsDays: number;
  /** …and the newest this many finished runs of every task are kept whatever their age. */
  keepLastRunsPerTask: number;
  /** Runs examined per short transaction. */
  batchSize: number;
  /** Pause between batches, leaving the database to the dispatcher. */
  pauseBetweenBatchesMs: number;
  /** How often the sweep runs. */
  frequencyMinutes: number;
}

function nonNegativeInteger(
  config: Config,
  key: string,
  fallback: number,
  min = 0,
): number {
  const value = config.getOptionalNumber(key) ?? fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new Error(
      `labScheduler.retention.${key} must be an integer of at least ${min}, got ${value}`,
    );
  }
  return value;
}

/** The retention settings, or undefined when run history is kept for ever (no keepFinishedRunsDays). */
export function readRunRetentionSettings(
  root: Config,
): RunRetentionSettings | undefined {
  const c = root.getOptionalConfig('labScheduler.retention');
  if (!c?.has('keepFinishedRunsDays')) return undefined;
  return {
    keepFinishedRunsDays: nonNegativeInteger(c, 'keepFinishedRunsDays', 0, 1),
    keepLastRunsPerTask: nonNegativeInteger(c, 'keepLastRunsPerTask', 10),
    batchSize: nonNegativeInteger(c, 'batchSize', 500, 1),
    pauseBetweenBatchesMs: nonNegativeInteger(c, 'pauseBetweenBatchesMs', 20),
    frequencyMinutes: nonNegativeInteger(c, 'frequencyMinutes', 10, 1),
  };
}
