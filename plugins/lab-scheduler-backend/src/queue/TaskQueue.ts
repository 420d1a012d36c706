import type { RunMessage } from '@lab-scheduler/plugin-lab-scheduler-common';

/** Outcome of publishing one message. */
export interface PublishOutcome {
  runId: string;
  ok: boolean;
  error?: string;
  /**
   * The queue refused this message for good (its content, its size): publishing it again cannot
   * succeed. Otherwise a failure is transient (the queue is unreachable, throttling) and is retried.
   */
  permanent?: boolean;
}

/**
 * Where the dispatcher hands runs to be executed. Implementations: SqsTaskQueue (production) and
 * InProcessTaskQueue (embedded default). A publish may deliver a message more than once over retries;
 * consumers are idempotent on the run id, and the message's claim token fences superseded claims.
 */
export interface TaskQueue {
  /**
   * Most messages the queue takes in one request. The dispatcher publishes at most this many at a time
   * and records them as soon as the request succeeded. Unset: no limit of the queue's own.
   */
  readonly maxBatchSize?: number;
  /**
   * Whether an accepted message outlives this process (SQS). Only then can a publish that was not yet
   * recorded be executed after another replica published the run again, so only then does the
   * dispatcher bound what is sent but unrecorded. An in-process queue's messages die with the process
   * that would have recorded them.
   */
  readonly durable?: boolean;
  /** Publishes the messages; never throws for a single message's failure (reported per message). */
  publish(messages: RunMessage[]): Promise<PublishOutcome[]>;
  /**
   * Resolves when the queue accepts requests again, rejects while it does not: lets the dispatcher
   * find the end of an outage within a second instead of waiting out each run's backoff.
   */
  probe?(): Promise<void>;
  /** Stops accepting messages and releases resources. */
  close(): Promise<void>;
}
