import {
  LoggerService,
  RootConfigService,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import { MeasurementTypeLookup } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { LAB_SCHEDULER_DEFAULTS } from '../config/defaults';
import { readOptionalDurationMs } from '../config/durations';
import { RunNotifier } from './RunNotifier';

/** Reads `labScheduler.notifications` (see config.d.ts). */
export function readNotificationSettings(config: RootConfigService) {
  const defaults = LAB_SCHEDULER_DEFAULTS.notifications;
  return {
    enabled:
      config.getOptionalBoolean('labScheduler.notifications.enabled') ??
      defaults.enabled,
    windowMs:
      readOptionalDurationMs(config, 'labScheduler.notifications.window') ??
      defaults.windowMs,
    pollIntervalMs:
      readOptionalDurationMs(
        config,
        'labScheduler.notifications.pollInterval',
        { positive: true },
      ) ?? defaults.pollIntervalMs,
  };
}

/**
 * Schedules the run notifier on Backstage's scheduler (global scope: one host at a time). Without a
 * notifications backend in the portal every send fails and is logged; the plugin works on.
 */
export async function scheduleRunNotifications(options: {
  config: RootConfigService;
  knex: Knex;
  notifications: NotificationService;
  scheduler: SchedulerService;
  logger: LoggerService;
  measurementTypes: MeasurementTypeLookup;
}): Promise<void> {
  const settings = readNotificationSettings(options.config);
  if (!settings.enabled) return;
  const notifier = new RunNotifier({
    knex: options.knex,
    notifications: options.notifications,
    logger: options.logger,
    windowMs: settings.windowMs,
    measurementTypes: options.measurementTypes,
  });
  await options.scheduler.scheduleTask({
    id: 'lab-scheduler-notify-run-owners',
    frequency: { milliseconds: settings.pollIntervalMs },
    timeout: { minutes: 1 },
    scope: 'global',
    fn: async () => {
      const sent = await notifier.notifyFinishedRuns(Date.now());
      if (sent > 0) options.logger.info('Notified task owners', { sent });
    },
  });
}
