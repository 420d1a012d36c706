import {
  BatchProcessor,
  EventType,
  processPartialResponse,
} from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  backoffDelay,
  EXECUTOR_METRICS,
  EXECUTOR_SERVICE_NAME,
  METRICS_NAMESPACE,
  parseRunMessage,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import {
  MeasurementExecutor,
  MeasurementFailedError,
  RunReporter,
} from '@lab-scheduler/plugin-lab-scheduler-node';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type {
  Context,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import { LambdaSettings, reporterFor, settingsFromEnv } from './config';

/**
 * SQS-triggered measurement Lambda: one record per run message. Each record is measured by the shared
 * MeasurementExecutor; failures are reported per record (batchItemFailures), so one bad record never
 * fails the batch. Duplicate deliveries measure once (the start transition is conditional).
 */

export const logger = new Logger({ serviceName: 'lab-scheduler-executor' });
// Names from the module the CDK alarms import; Powertools adds `service` as the only dimension.
export const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: EXECUTOR_SERVICE_NAME,
});

let executorPromise:
  | Promise<{ executor: MeasurementExecutor; maxReceiveCount: number }>
  | undefined;

/**
 * The executor of these settings: the registries settingsFromEnv built (drivers and measurement types,
 * from the built-ins and LAMBDA_MODULES), dead-lettering on the last attempt.
 */
export function executorFor(
  settings: LambdaSettings,
  reporter: RunReporter = reporterFor(settings),
): MeasurementExecutor {
  return new MeasurementExecutor({
    drivers: settings.drivers,
    measurementTypes: settings.measurementTypes,
    rawData: settings.rawData,
    reporter,
    logger,
    deadLetterQueue: true,
  });
}

/** Built once per container (cold start): settings and clients; the token is re-read as it ages (config.ts). */
function getExecutor() {
  executorPromise ??= settingsFromEnv().then(settings => ({
    maxReceiveCount: settings.maxReceiveCount,
    executor: executorFor(settings),
  }));
  executorPromise.catch(() => {
    executorPromise = undefined; // retry the set-up on the next invocation
  });
  return executorPromise;
}

let sqs: SQSClient | undefined;

/**
 * Exponential backoff between deliveries: SQS would redeliver after the fixed visibility timeout, so a
 * retryable failure first pushes the message's visibility out to RETRY_BASE_SECONDS × 2^(n-1) (at most
 * RETRY_MAX_SECONDS). Best effort: if it fails, the queue's own timeout applies.
 */
async function backOff(record: SQSRecord, receiveCount: number): Promise<void> {
  const queueUrl = process.env.QUEUE_URL;
  if (!queueUrl) return;
  const base = Number(process.env.RETRY_BASE_SECONDS ?? 10);
  const max = Number(process.env.RETRY_MAX_SECONDS ?? 900);
  const delay = Math.round(
    backoffDelay({
      attempt: receiveCount,
      baseMs: base * 1000,
      maxMs: max * 1000,
    }) / 1000,
  );
  try {
    sqs ??= new SQSClient({});
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: delay,
      }),
    );
  } catch (error) {
    logger.warn('Could not delay the retry', { error: String(error) });
  }
}

async function recordHandler(record: SQSRecord): Promise<void> {
  const { executor, maxReceiveCount } = await getExecutor();
  // A malformed body throws: the record is reported failed, retried, and ends in the DLQ.
  const message = parseRunMessage(record.body);
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1);
  logger.appendKeys({ runId: message.runId, taskId: message.taskId });
  try {
    const outcome = await executor.execute(message, {
      receiveCount,
      maxReceiveCount,
    });
    if (outcome.outcome === 'succeeded') {
      metrics.addMetric(EXECUTOR_METRICS.succeeded.name, MetricUnit.Count, 1);
      metrics.addMetric(
        EXECUTOR_METRICS.duration.name,
        MetricUnit.Milliseconds,
        outcome.result.durationMs,
      );
      if (outcome.result.qc.status === 'fail')
        metrics.addMetric(EXECUTOR_METRICS.qcFailed.name, MetricUnit.Count, 1);
    } else {
      metrics.addMetric(
        EXECUTOR_METRICS.duplicateDelivery.name,
        MetricUnit.Count,
        1,
      );
    }
  } catch (error) {
    metrics.addMetric(EXECUTOR_METRICS.failed.name, MetricUnit.Count, 1);
    // A permanent failure is recorded on the run: acknowledge it rather than retry in vain.
    if (
      error instanceof MeasurementFailedError &&
      !error.retrying &&
      !error.deadLettered
    )
      return;
    if (error instanceof MeasurementFailedError && error.retrying)
      await backOff(record, receiveCount);
    throw error;
  } finally {
    logger.removeKeys(['runId', 'taskId']);
  }
}

export async function handler(
  event: SQSEvent,
  context: Context,
): Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  try {
    return await processPartialResponse(event, recordHandler, processor, {
      context,
      throwOnFullBatchFailure: false,
    });
  } finally {
    metrics.publishStoredMetrics();
  }
}
