import {
  SendMessageBatchCommand,
  SendMessageBatchRequestEntry,
  SQSClient,
  SQSClientConfig,
} from '@aws-sdk/client-sqs';
import type { RunMessage } from '@internal/plugin-lab-scheduler-common';
import { PublishOutcome, TaskQueue } from './TaskQueue';

export interface SqsTaskQueueOptions {
  queueUrl: string;
  region?: string;
  /** Custom endpoint, e.g. a local SQS-compatible server. */
  endpoint?: string;
  /** Explicit credentials; the AWS default chain (IRSA, env, profile) when absent. */
  credentials?: SQSClientConfig['credentials'];
  /** SendMessageBatch requests in flight at once. */
  maxConcurrentBatches?: number;
  client?: SQSClient;
}

const SQS_BATCH = 10;

/**
 * Publishes run messages to an SQS queue with SendMessageBatch. FIFO queues (URL ending in .fifo) get
 * the run id as deduplication id — a republished run within 5 minutes is dropped by SQS — and the
 * instrument as message group, so runs on one instrument are delivered in order.
 */
export class SqsTaskQueue implements TaskQueue {
  readonly client: SQSClient;
  readonly fifo: boolean;
  private readonly maxConcurrentBatches: number;

  constructor(private readonly options: SqsTaskQueueOptions) {
    this.client =
      options.client ??
      new SQSClient({
        region: options.region,
        endpoint: options.endpoint,
        credentials: options.credentials,
      });
    this.fifo = options.queueUrl.endsWith('.fifo');
    this.maxConcurrentBatches = options.maxConcurrentBatches ?? 16;
  }

  private entry(
    message: RunMessage,
    index: number,
  ): SendMessageBatchRequestEntry {
    return {
      Id: `m${index}`,
      MessageBody: JSON.stringify(message),
      MessageAttributes: {
        schemaVersion: {
          DataType: 'Number',
          StringValue: String(message.schemaVersion),
        },
        measurementType: {
          DataType: 'String',
          StringValue: message.measurement.type,
        },
        instrumentRef: {
          DataType: 'String',
          StringValue: message.instrumentRef,
        },
        runId: { DataType: 'String', StringValue: message.runId },
      },
      ...(this.fifo
        ? {
            MessageDeduplicationId: message.runId,
            MessageGroupId: message.instrumentRef,
          }
        : {}),
    };
  }

  private async sendBatch(messages: RunMessage[]): Promise<PublishOutcome[]> {
    try {
      const response = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: messages.map((m, i) => this.entry(m, i)),
        }),
      );
      const failed = new Map(
        (response.Failed ?? []).map(f => [
          f.Id,
          `${f.Code}: ${f.Message ?? ''}`,
        ]),
      );
      return messages.map((m, i) => {
        const error = failed.get(`m${i}`);
        return error
          ? { runId: m.runId, ok: false, error }
          : { runId: m.runId, ok: true };
      });
    } catch (error) {
      const text = `SQS SendMessageBatch failed: ${(error as Error).name}: ${
        (error as Error).message
      }`;
      return messages.map(m => ({ runId: m.runId, ok: false, error: text }));
    }
  }

  async publish(messages: RunMessage[]): Promise<PublishOutcome[]> {
    const batches: RunMessage[][] = [];
    for (let i = 0; i < messages.length; i += SQS_BATCH) {
      batches.push(messages.slice(i, i + SQS_BATCH));
    }
    const outcomes: PublishOutcome[] = [];
    for (let i = 0; i < batches.length; i += this.maxConcurrentBatches) {
      const results = await Promise.all(
        batches
          .slice(i, i + this.maxConcurrentBatches)
          .map(b => this.sendBatch(b)),
      );
      results.forEach(r => outcomes.push(...r));
    }
    return outcomes;
  }

  async close(): Promise<void> {
    if (!this.options.client) this.client.destroy();
  }
}
