import type { RunMessage } from '@lab-scheduler/plugin-lab-scheduler-common';
import { LAB_SCHEDULER_DEFAULTS } from '../config/defaults';
import { PublishOutcome, TaskQueue } from './TaskQueue';

/** Executes one run message; the same executor code the Lambda runs. */
export type RunMessageHandler = (message: RunMessage) => Promise<void>;

/**
 * The embedded default's queue: runs messages in this process with bounded concurrency. Accepting a
 * message is publishing it; a message accepted while closing is refused so the dispatcher keeps it
 * pending for another attempt.
 */
export class InProcessTaskQueue implements TaskQueue {
  private readonly waiting: RunMessage[] = [];
  private active = 0;
  private closed = false;
  private idleResolvers: (() => void)[] = [];

  constructor(
    private readonly handler: RunMessageHandler,
    private readonly options: {
      concurrency?: number;
      onError?: (error: unknown, message: RunMessage) => void;
    } = {},
  ) {}

  async publish(messages: RunMessage[]): Promise<PublishOutcome[]> {
    if (this.closed) {
      return messages.map(m => ({
        runId: m.runId,
        ok: false,
        error: 'queue is closed',
      }));
    }
    this.waiting.push(...messages);
    this.pump();
    return messages.map(m => ({ runId: m.runId, ok: true }));
  }

  private pump() {
    const concurrency =
      this.options.concurrency ?? LAB_SCHEDULER_DEFAULTS.queue.concurrency;
    while (this.active < concurrency && this.waiting.length > 0) {
      const message = this.waiting.shift()!;
      this.active++;
      this.handler(message)
        .catch(error => this.options.onError?.(error, message))
        .finally(() => {
          this.active--;
          this.pump();
          if (this.active === 0 && this.waiting.length === 0) {
            this.idleResolvers.splice(0).forEach(r => r());
          }
        });
    }
  }

  /** Resolves when every accepted message has been handled. */
  async idle(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return;
    await new Promise<void>(resolve => this.idleResolvers.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }
}
