import { backoffDelay } from '@lab-scheduler/plugin-lab-scheduler-common';
import type { RunMessage } from '@lab-scheduler/plugin-lab-scheduler-common';
import {
  DriverRegistry,
  InstrumentFaultError,
} from './drivers/InstrumentDriver';
import { builtInMeasurementTypes } from './measurementTypes/builtIn';
import { MeasurementTypeRegistry } from './measurementTypes/MeasurementType';
import { RunReporter, RunResult } from './reporting/RunReporter';
import { RawDataStore } from './storage/RawDataStore';

/** How this message was delivered: the queue's receive count and the number allowed before giving up. */
export interface Delivery {
  receiveCount: number;
  maxReceiveCount: number;
}

export type ExecutionOutcome =
  | { outcome: 'succeeded'; result: RunResult }
  | { outcome: 'duplicate'; status: string }
  | { outcome: 'failed'; error: string; retrying: boolean };

/** Minimal structured logger: Powertools' Logger and Backstage's LoggerService both fit. */
export interface ExecutorLogger {
  info(message: string, meta?: any): void;
  warn(message: string, meta?: any): void;
  error(message: string, meta?: any): void;
}

/** A measurement failed; `retrying` says whether another delivery will try again. */
export class MeasurementFailedError extends Error {
  constructor(
    message: string,
    readonly retrying: boolean,
    readonly deadLettered: boolean,
  ) {
    super(message);
    this.name = 'MeasurementFailedError';
  }
}

/**
 * Executes one run message: claims the run's start (a duplicate delivery stops here), measures through
 * the instrument's driver, processes the data, stores the raw data and reports the outcome.
 * The same code runs in the Lambda and in the backend's in-process queue.
 */
export class MeasurementExecutor {
  constructor(
    private readonly options: {
      drivers: DriverRegistry;
      /** Processing and QC per measurement type. Default: the built-in types. */
      measurementTypes?: MeasurementTypeRegistry;
      rawData: RawDataStore;
      reporter: RunReporter;
      logger: ExecutorLogger;
      /** Abort a measurement that takes longer than this. Default 10 minutes. */
      timeoutMs?: number;
      /** Whether exhausted retries end in a dead-letter queue (SQS) rather than plain failure. */
      deadLetterQueue?: boolean;
      /**
       * How long to keep retrying the raw-data upload (S3 unavailable): the measurement is done, and
       * failing the run would throw it away, retrying the message would measure again. Default 60 000.
       */
      storageRetryMs?: number;
    },
  ) {
    this.measurementTypes =
      options.measurementTypes ??
      new MeasurementTypeRegistry(builtInMeasurementTypes);
  }

  private readonly measurementTypes: MeasurementTypeRegistry;

  /** Stores raw data, retrying with backoff while the store is unavailable (see storageRetryMs). */
  private async storeRawData(key: string, body: string) {
    const deadline = Date.now() + (this.options.storageRetryMs ?? 60_000);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.options.rawData.put(key, body);
      } catch (error) {
        const delay = backoffDelay({ attempt, baseMs: 250, maxMs: 8_000 });
        if (Date.now() + delay > deadline) throw error;
        this.options.logger.warn('Raw data upload failed; retrying', {
          key,
          error: String(error),
          retryInMs: delay,
        });
        await new Promise(r => setTimeout(r, delay));
      }
    }
  }

  /**
   * Resolves with the outcome. Throws MeasurementFailedError after reporting a failure, so that a queue
   * consumer can leave the message for redelivery (or the DLQ when it was the last attempt).
   */
  async execute(
    message: RunMessage,
    delivery: Delivery,
  ): Promise<ExecutionOutcome> {
    const { reporter, logger } = this.options;
    const ids = {
      runId: message.runId,
      taskId: message.taskId,
      instrumentRef: message.instrumentRef,
    };
    const decision = await reporter.start(
      message.runId,
      delivery.receiveCount,
      message.claimToken,
    );
    if (!decision.proceed) {
      logger.info('Run already handled; acknowledging duplicate delivery', {
        ...ids,
        status: decision.status,
      });
      return { outcome: 'duplicate', status: decision.status };
    }
    const started = Date.now();
    try {
      const driver = this.options.drivers.driverFor(message.instrumentRef);
      const raw = await driver.measure(
        {
          runId: message.runId,
          instrumentRef: message.instrumentRef,
          measurement: message.measurement,
          scheduledFor: message.scheduledFor,
        },
        { signal: AbortSignal.timeout(this.options.timeoutMs ?? 600_000) },
      );
      const processed = this.measurementTypes.process(
        raw,
        message.measurement.parameters,
      );
      const stored = await this.storeRawData(
        `runs/${message.taskId}/${message.runId}.json`,
        JSON.stringify(raw),
      );
      const result: RunResult = {
        measurementType: message.measurement.type,
        driver: driver.name,
        summary: processed.summary,
        qc: processed.qc,
        rawData: stored,
        durationMs: Date.now() - started,
      };
      await reporter.succeed(message.runId, result, message.claimToken);
      logger.info('Measurement succeeded', {
        ...ids,
        durationMs: result.durationMs,
        qc: result.qc.status,
      });
      return { outcome: 'succeeded', result };
    } catch (error) {
      const text = `${(error as Error).name}: ${(error as Error).message}`;
      // Instrument faults are worth another try; anything else (bad data, refused request) is final.
      const retryable = error instanceof InstrumentFaultError;
      const retrying =
        retryable && delivery.receiveCount < delivery.maxReceiveCount;
      const deadLettered =
        retryable && !retrying && (this.options.deadLetterQueue ?? false);
      await reporter.fail(
        message.runId,
        text,
        { retrying, deadLettered },
        message.claimToken,
      );
      logger.warn('Measurement failed', {
        ...ids,
        error: text,
        retrying,
        attempt: delivery.receiveCount,
      });
      throw new MeasurementFailedError(text, retrying, deadLettered);
    }
  }
}
