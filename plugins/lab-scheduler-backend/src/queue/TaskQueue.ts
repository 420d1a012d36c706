import type { RunMessage } from '@internal/plugin-lab-scheduler-common';

/** Outcome of publishing one message. */
export interface PublishOutcome {
  runId: string;
  ok: boolean;
  error?: string;
}

/**
 * Where the dispatcher hands runs to be executed. Implementations: SqsTaskQueue (production) and
 * InProcessTaskQueue (embedded default). A publish may deliver a message more than once over retries;
 * consumers are idempotent on the run id.
 */
export interface TaskQueue {
  /** Publishes the messages; never throws for a single message's failure (reported per message). */
  publish(messages: RunMessage[]): Promise<PublishOutcome[]>;
  /** Stops accepting messages and releases resources. */
  close(): Promise<void>;
}
