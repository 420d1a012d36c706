import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageBatchRequestEntry,
  SQSClient,
  SQSClientConfig,
} from '@aws-sdk/client-sqs';
import type { RunMessage } from '@lab-scheduler/plugin-lab-scheduler-common';
import { PublishOutcome, TaskQueue } from './TaskQueue';

export interface SqsTaskQueueOptions {
  queueUrl: string;
  region?: string;
  /** Custom endpoint, e.g. a local SQS-compatible server. */
  endpoint?: string;
  /** Explicit credentials; the AWS default chain (IRSA, env, profile) when absent. */
  credentials?: SQSClientConfig['credentials'];
  /** SendMessageBatch requests in flight at once within one publish call. */
  maxConcurrentBatches?: number;
  /**
   * Largest message (body and attributes) sent; a larger one is refused here, for good, rather than
   * sent to fail. Default 256 KiB, which every SQS queue accepts.
   */
  maxMessageBytes?: number;
  client?: SQSClient;
}

/** SendMessageBatch takes at most 10 entries… */
const SQS_BATCH_ENTRIES = 10;
/** …of at most this many bytes together (the classic limit; larger queues accept it too). */
const SQS_BATCH_BYTES = 256 * 1024;

/**
 * Characters an SQS message body may not contain: XML 1.0's excluded characters (NUL and other controls
 * but tab, LF and CR, U+FFFE, U+FFFF) and unpaired surrogates. JSON.stringify already escapes controls
 * and unpaired surrogates; U+FFFE and U+FFFF it leaves as they are.
 */
const SQS_FORBIDDEN =
  // Control characters are exactly what this pattern is for.
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The message as JSON that SQS accepts whatever the task's text holds: forbidden characters become JSON
 * escapes, so the executor parses exactly the original message.
 */
export function sqsMessageBody(message: RunMessage): string {
  return JSON.stringify(message).replace(
    SQS_FORBIDDEN,
    c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Per-entry SendMessageBatch errors caused by the message itself: retrying cannot help. */
const PERMANENT_ENTRY_ERRORS = new Set([
  'InvalidMessageContents',
  'InvalidParameterValue',
  'InvalidAttributeName',
  'InvalidAttributeValue',
  'MessageTooLong',
]);

type Entry = {
  message: RunMessage;
  request: SendMessageBatchRequestEntry;
  bytes: number;
};

/**
 * Publishes run messages to an SQS queue with SendMessageBatch. FIFO queues (URL ending in .fifo) get
 * the instrument as message group, so runs on one instrument are delivered in order, and the run id
 * with its claim token as deduplication id: a publish repeated under the same claim within 5 minutes
 * is dropped by SQS, while a run re-published under a new claim is not (the old claim's message would
 * be refused by the executor).
 */
export class SqsTaskQueue implements TaskQueue {
  readonly client: SQSClient;
  readonly fifo: boolean;
  readonly maxBatchSize = SQS_BATCH_ENTRIES;
  readonly durable = true;
  private readonly maxConcurrentBatches: number;
  private readonly maxMessageBytes: number;

  constructor(private readonly options: SqsTaskQueueOptions) {
    this.client =
      options.client ??
      new SQSClient({
        region: options.region,
        endpoint: options.endpoint,
        credentials: options.credentials,
        // The dispatcher retries failed publishes itself (backoff, queue probe, lease checks). A retry
        // inside the SDK would re-send a batch SQS may already have taken, after the lease was checked —
        // e.g. when a replica wakes from a stall and its request timers all fire at once.
        maxAttempts: 1,
        // Without these a half-open connection hangs a publish (and the dispatcher's round, and its
        // shutdown) for ever; a timed-out send is a transient failure, retried by the dispatcher.
        requestHandler: {
          connectionTimeout: 3_000,
          requestTimeout: 10_000,
          throwOnRequestTimeout: true,
        },
      });
    this.fifo = options.queueUrl.endsWith('.fifo');
    this.maxConcurrentBatches = options.maxConcurrentBatches ?? 16;
    this.maxMessageBytes = options.maxMessageBytes ?? 256 * 1024;
  }

  private entry(message: RunMessage, index: number): Entry {
    const attributes = {
      schemaVersion: {
        DataType: 'Number',
        StringValue: String(message.schemaVersion),
      },
      measurementType: {
        DataType: 'String',
        StringValue: message.measurement.type,
      },
      instrumentRef: { DataType: 'String', StringValue: message.instrumentRef },
      runId: { DataType: 'String', StringValue: message.runId },
    };
    const body = sqsMessageBody(message);
    // SQS counts the body, and each attribute's name, type and value, in UTF-8 bytes.
    const bytes =
      Buffer.byteLength(body) +
      Object.entries(attributes).reduce(
        (n, [name, a]) =>
          n +
          Buffer.byteLength(name) +
          Buffer.byteLength(a.DataType) +
          Buffer.byteLength(a.StringValue),
        0,
      );
    return {
      message,
      bytes,
      request: {
        Id: `m${index}`,
        MessageBody: body,
        MessageAttributes: attributes,
        ...(this.fifo
          ? {
              MessageDeduplicationId: message.claimToken
                ? `${message.runId}.${message.claimToken}`
                : message.runId,
              MessageGroupId: message.instrumentRef,
            }
          : {}),
      },
    };
  }

  private async sendBatch(entries: Entry[]): Promise<PublishOutcome[]> {
    try {
      const response = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: entries.map(e => e.request),
        }),
      );
      const failed = new Map((response.Failed ?? []).map(f => [f.Id, f]));
      return entries.map(({ message, request }) => {
        const failure = failed.get(request.Id);
        if (!failure) return { runId: message.runId, ok: true };
        return {
          runId: message.runId,
          ok: false,
          error: `SQS refused the message: ${failure.Code}: ${
            failure.Message ?? ''
          }`,
          // Only the message's own content or size fails the same way on every attempt; other sender
          // faults (a KMS key policy, throttling) may heal and are retried.
          permanent:
            failure.SenderFault === true &&
            PERMANENT_ENTRY_ERRORS.has(failure.Code ?? ''),
        };
      });
    } catch (error) {
      const text = `SQS SendMessageBatch failed: ${(error as Error).name}: ${
        (error as Error).message
      }`;
      return entries.map(e => ({
        runId: e.message.runId,
        ok: false,
        error: text,
      }));
    }
  }

  async publish(messages: RunMessage[]): Promise<PublishOutcome[]> {
    const outcomes: PublishOutcome[] = [];
    const batches: Entry[][] = [];
    let batch: Entry[] = [];
    let batchBytes = 0;
    messages.forEach((message, index) => {
      const entry = this.entry(message, index);
      if (entry.bytes > this.maxMessageBytes) {
        outcomes.push({
          runId: message.runId,
          ok: false,
          permanent: true,
          error: `The run's message is ${entry.bytes} bytes; the queue takes at most ${this.maxMessageBytes}`,
        });
        return;
      }
      if (
        batch.length === SQS_BATCH_ENTRIES ||
        (batch.length > 0 && batchBytes + entry.bytes > SQS_BATCH_BYTES)
      ) {
        batches.push(batch);
        batch = [];
        batchBytes = 0;
      }
      batch.push(entry);
      batchBytes += entry.bytes;
    });
    if (batch.length > 0) batches.push(batch);
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

  /** One cheap request to the queue: resolves when SQS answers. */
  async probe(): Promise<void> {
    await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.options.queueUrl,
        AttributeNames: ['QueueArn'],
      }),
    );
  }

  async close(): Promise<void> {
    if (!this.options.client) this.client.destroy();
  }
}
