import { LoggerService } from '@backstage/backend-plugin-api';
import type { SignalsService } from '@backstage/plugin-signals-node';

/** The signal channel the frontend's useRunUpdates listens on. */
export const RUN_UPDATES_CHANNEL = 'lab-scheduler:runs';

/**
 * Tells open Lab Scheduler pages that tasks or runs changed, so they reload now instead of at their next
 * poll. The signal carries no ids (it goes to every signed-in user; each page reloads what it may read).
 * Bursts are coalesced: at most one signal per `minIntervalMs`.
 */
export class RunUpdateSignals {
  private pending?: ReturnType<typeof setTimeout>;
  private lastSentAt = 0;

  constructor(
    private readonly signals: SignalsService,
    private readonly logger: LoggerService,
    private readonly minIntervalMs = 500,
  ) {}

  /** Something changed: signal now, or once at the end of the current interval. */
  changed(): void {
    if (this.pending) return;
    const wait = Math.max(0, this.lastSentAt + this.minIntervalMs - Date.now());
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.lastSentAt = Date.now();
      this.signals
        .publish({
          recipients: { type: 'broadcast' },
          channel: RUN_UPDATES_CHANNEL,
          message: { type: 'changed' },
        })
        .catch(error =>
          this.logger.debug(`Could not publish a run update signal: ${error}`),
        );
    }, wait);
  }

  /** Drops a pending signal (shutdown). */
  close(): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
  }
}
