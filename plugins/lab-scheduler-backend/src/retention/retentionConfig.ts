import { Config } from '@backstage/config';
import { LAB_SCHEDULER_DEFAULTS } from '../config/defaults';
import { readOptionalDurationMs } from '../config/durations';

/** `labScheduler.retention` with its defaults (see config.d.ts). */
export interface RunRetentionSettings {
  /** Finished runs are kept this long after they finished. */
  keepFinishedRunsMs: number;
  /** …and the newest this many finished runs of every task are kept whatever their age. */
  keepLastRunsPerTask: number;
  /** Runs examined per short transaction. */
  batchSize: number;
  /** Pause between batches, leaving the database to the dispatcher. */
  pauseBetweenBatchesMs: number;
  /** How often the sweep runs. */
  frequencyMs: number;
}

const PREFIX = 'labScheduler.retention';

function nonNegativeInteger(
  config: Config,
  key: string,
  fallback: number,
  min = 0,
): number {
  const value = config.getOptionalNumber(key) ?? fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new Error(
      `${PREFIX}.${key} must be an integer of at least ${min}, got ${value}`,
    );
  }
  return value;
}

/** The retention settings, or undefined when run history is kept for ever (no keepFinishedRunsFor). */
export function readRunRetentionSettings(
  root: Config,
): RunRetentionSettings | undefined {
  const defaults = LAB_SCHEDULER_DEFAULTS.retention;
  const keepFinishedRunsMs = readOptionalDurationMs(
    root,
    `${PREFIX}.keepFinishedRunsFor`,
    { deprecatedKey: `${PREFIX}.keepFinishedRunsDays`, positive: true },
  );
  if (keepFinishedRunsMs === undefined) return undefined;
  const c = root.getConfig(PREFIX);
  return {
    keepFinishedRunsMs,
    keepLastRunsPerTask: nonNegativeInteger(
      c,
      'keepLastRunsPerTask',
      defaults.keepLastRunsPerTask,
    ),
    batchSize: nonNegativeInteger(c, 'batchSize', defaults.batchSize, 1),
    pauseBetweenBatchesMs:
      readOptionalDurationMs(root, `${PREFIX}.pauseBetweenBatches`, {
        deprecatedKey: `${PREFIX}.pauseBetweenBatchesMs`,
      }) ?? defaults.pauseBetweenBatchesMs,
    frequencyMs:
      readOptionalDurationMs(root, `${PREFIX}.frequency`, {
        deprecatedKey: `${PREFIX}.frequencyMinutes`,
        positive: true,
      }) ?? defaults.frequencyMs,
  };
}
