import { LoggerService } from '@backstage/backend-plugin-api';
import {
  backoffDelay,
  type RunMessage,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import {
  DriverRegistry,
  MeasurementExecutor,
  MeasurementTypeRegistry,
  MeasurementFailedError,
  RawDataStore,
} from '@lab-scheduler/plugin-lab-scheduler-node';
import { RunStateStore } from '../database/RunStateStore';
import { InProcessTaskQueue } from '../queue/InProcessTaskQueue';
import { DirectRunReporter } from './DirectRunReporter';

/**
 * The embedded default's execution: an in-process queue feeding the same MeasurementExecutor the
 * Lambda runs, with retries and backoff standing in for SQS redelivery.
 */
export function createInProcessQueue(options: {
  runStates: RunStateStore;
  drivers: DriverRegistry;
  /** Processing and QC per measurement type. Default: the built-in types. */
  measurementTypes?: MeasurementTypeRegistry;
  rawData: RawDataStore;
  logger: LoggerService;
  concurrency: number;
  maxAttempts: number;
  retryDelayMs: number;
  onRunFinished: () => void;
  onRunStarted?: () => void;
}): InProcessTaskQueue {
  const executor = new MeasurementExecutor({
    drivers: options.drivers,
    measurementTypes: options.measurementTypes,
    rawData: options.rawData,
    reporter: new DirectRunReporter(options.runStates, {
      onRunStarted: options.onRunStarted,
      onRunFinished: options.onRunFinished,
    }),
    logger: options.logger,
    deadLetterQueue: false,
  });
  const handle = async (message: RunMessage) => {
    for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
      try {
        await executor.execute(message, {
          receiveCount: attempt,
          maxReceiveCount: options.maxAttempts,
        });
        return;
      } catch (error) {
        if (!(error instanceof MeasurementFailedError) || !error.retrying) {
          if (!(error instanceof MeasurementFailedError)) throw error;
          return;
        }
        await new Promise(r =>
          setTimeout(
            r,
            backoffDelay({ attempt, baseMs: options.retryDelayMs }),
          ),
        );
      }
    }
  };
  return new InProcessTaskQueue(handle, {
    concurrency: options.concurrency,
    onError: (error, message) =>
      options.logger.error(`In-process run failed unexpectedly: ${error}`, {
        runId: message.runId,
      }),
  });
}
