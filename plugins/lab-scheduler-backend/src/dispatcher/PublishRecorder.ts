import {
  BackoffPolicy,
  backoffDelay,
} from '@lab-scheduler/plugin-lab-scheduler-common';

/** A publish to record: the run, the claim it was published under, and when the queue took it. */
export interface PublishedRun {
  id: string;
  claimToken: string;
  publishedAt: number;
}

export interface PublishRecorderOptions {
  /** Most messages sent (or being sent) but not yet recorded, at any instant. */
  maxUnrecorded: number;
  /** Records a group of publishes in one statement. */
  record(entries: PublishedRun[]): Promise<void>;
  /** Between attempts to record while the database is unreachable. */
  retry: BackoffPolicy;
  /** Told of each failed attempt to record (for the logs). */
  onRecordError?(error: unknown, entries: number, attempt: number): void;
  now?: () => number;
}

type Waiting = {
  entries: PublishedRun[];
  deadline: number;
  resolve(recorded: boolean): void;
};

/**
 * Bounds what a crash can duplicate. A message the queue accepted but the database does not yet know
 * about is published again by another replica once this one's lease expires; so the dispatcher takes a
 * permit per message before sending it and gives it back only once the publish is recorded (or the
 * message was not sent). At most `maxUnrecorded` messages are ever at risk.
 *
 * Publishes are recorded as soon as their send succeeded, in groups: whatever arrived while the
 * previous statement ran goes in the next one (a group commit), so recording each send at once costs
 * few statements under load. When the database is unreachable (restart, failover), recording is retried
 * until each publish's deadline (its claim's lease): past it the publish is given up and another replica
 * re-publishes the run under a new claim, whose token fences this message at the executor.
 */
export class PublishRecorder {
  private inFlight = 0;
  private readonly permitWaiters: { n: number; resolve(): void }[] = [];
  private readonly waiting: Waiting[] = [];
  private flushing = false;
  private readonly now: () => number;

  constructor(private readonly options: PublishRecorderOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Messages sent or being sent and not yet recorded. */
  get unrecorded(): number {
    return this.inFlight;
  }

  /** Waits until `n` more messages may be sent (n is capped at the limit). */
  async acquire(n: number): Promise<void> {
    const wanted = Math.min(n, this.options.maxUnrecorded);
    if (
      this.permitWaiters.length === 0 &&
      this.inFlight + wanted <= this.options.maxUnrecorded
    ) {
      this.inFlight += wanted;
      return;
    }
    await new Promise<void>(resolve =>
      this.permitWaiters.push({ n: wanted, resolve }),
    );
  }

  /** Gives back permits of messages that were not sent, or whose publish is settled. */
  release(n: number): void {
    this.inFlight = Math.max(0, this.inFlight - n);
    // First come, first served: a large request is not overtaken by smaller ones.
    while (this.permitWaiters.length > 0) {
      const next = this.permitWaiters[0];
      if (this.inFlight + next.n > this.options.maxUnrecorded) break;
      this.permitWaiters.shift();
      this.inFlight += next.n;
      next.resolve();
    }
  }

  /**
   * Records sent messages; resolves true once recorded, false when given up at `deadline`. Does not
   * release permits: the caller does, once this resolves.
   */
  record(entries: PublishedRun[], deadline: number): Promise<boolean> {
    if (entries.length === 0) return Promise.resolve(true);
    return new Promise<boolean>(resolve => {
      this.waiting.push({ entries, deadline, resolve });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.waiting.length > 0) {
        let group = this.waiting.splice(0);
        for (let attempt = 1; group.length > 0; attempt++) {
          try {
            await this.options.record(group.flatMap(w => w.entries));
            group.forEach(w => w.resolve(true));
            break;
          } catch (error) {
            const entries = group.reduce((n, w) => n + w.entries.length, 0);
            this.options.onRecordError?.(error, entries, attempt);
            const retryAt =
              this.now() + backoffDelay({ ...this.options.retry, attempt });
            const expired = group.filter(w => w.deadline < retryAt);
            expired.forEach(w => w.resolve(false));
            group = group.filter(w => w.deadline >= retryAt);
            if (group.length > 0) {
              await new Promise(r => setTimeout(r, retryAt - this.now()));
              // What arrived meanwhile joins this attempt.
              group.push(...this.waiting.splice(0));
            }
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
