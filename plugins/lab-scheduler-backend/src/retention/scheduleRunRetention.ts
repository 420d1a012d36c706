import {
  LoggerService,
  RootConfigService,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import { readRunRetentionSettings } from './retentionConfig';
import { RunRetention } from './RunRetention';

/**
 * Schedules the run-history retention sweep on Backstage's scheduler (one host at a time), when
 * `labScheduler.retention.keepFinishedRunsFor` is set. A sweep stops between batches when the
 * scheduler aborts it, and the next one starts over.
 */
export async function scheduleRunRetention(options: {
  config: RootConfigService;
  scheduler: SchedulerService;
  knex: Knex;
  logger: LoggerService;
  /** The local raw-data folder whose files follow their runs (queue type inProcess). */
  rawDataDirectory?: string;
}): Promise<void> {
  const settings = readRunRetentionSettings(options.config);
  if (!settings) return;
  const logger = options.logger.child({ component: 'run-retention' });
  const retention = new RunRetention({
    knex: options.knex,
    settings,
    rawDataDirectory: options.rawDataDirectory,
    logger,
  });
  await options.scheduler.scheduleTask({
    id: 'lab-scheduler-run-retention',
    frequency: { milliseconds: settings.frequencyMs },
    timeout: { milliseconds: Math.max(settings.frequencyMs, 5 * 60_000) },
    initialDelay: { minutes: 1 },
    scope: 'global',
    fn: async (signal?: AbortSignal) => {
      const result = await retention.sweep(Date.now(), signal);
      if (result.runs > 0) {
        logger.info('Deleted expired run history', { ...result });
      }
    },
  });
}
