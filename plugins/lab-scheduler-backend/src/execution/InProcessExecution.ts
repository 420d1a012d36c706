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
import { DispatchStore } from '../database/DispatchStore';
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
    // A run queued again after its process was lost (requeueLostQueuedRuns) carries the deliveries it
    // already had (RunMessage.attempt, counted like SQS's receive count): it gets the attempts it has
    // left, not a fresh set on every restart. Past the last, it still gets one, its last.
    const first = Math.min(Math.max(1, message.attempt), options.maxAttempts);
    for (let attempt = first; attempt <= options.maxAttempts; attempt++) {
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

/**
 * Hands runs left `queued` to this process's in-process queue again. That queue lives in memory: a
 * process killed (not stopped) loses the runs it had queued, and nothing else would ever measure them or
 * complete their one-time tasks. A run queued for longer than `queuedForMs` is presumed lost (0: every
 * queued run, at the start-up of the one process that uses a SQLite file). A copy of a message still held
 * by a live replica is harmless: only one start of a run applies (RunStateStore.start), and the copy is
 * refused there. Returns how many runs were handed on.
 */
export async function requeueLostQueuedRuns(options: {
  dispatch: DispatchStore;
  queue: InProcessTaskQueue;
  logger: LoggerService;
  queuedForMs: number;
  nowMs?: number;
}): Promise<number> {
  const nowMs = options.nowMs ?? Date.now();
  let handed = 0;
  for (;;) {
    const messages = await options.dispatch.takeLostQueuedRuns({
      queuedBeforeMs: nowMs - options.queuedForMs,
      nowMs,
      batchSize: 500,
    });
    if (messages.length === 0) break;
    // Accepted unless the queue is closing; a run refused here is taken again on the next call.
    const outcomes = await options.queue.publish(messages);
    handed += outcomes.filter(o => o.ok).length;
    if (messages.length < 500 || outcomes.some(o => !o.ok)) break;
  }
  if (handed > 0) {
    options.logger.warn(
      'Queued runs whose in-process queue was lost were queued again',
      { count: handed },
    );
  }
  return handed;
}
