import type { RunResult } from '@lab-scheduler/plugin-lab-scheduler-common';
import type {
  RunReporter,
  StartDecision,
} from '@lab-scheduler/plugin-lab-scheduler-node';
import { RunStateStore } from '../database/RunStateStore';

/** The principal the in-process executor reports as, in the run-event audit. */
export const IN_PROCESS_EXECUTOR = 'lab-scheduler:in-process-executor';

/** Reports run events straight to the store: the in-process executor shares the plugin's database. */
export class DirectRunReporter implements RunReporter {
  constructor(
    private readonly runStates: RunStateStore,
    private readonly events: {
      /** A run started (queued → running): open pages may show it running. */
      onRunStarted?: () => void;
      /** A run ended for good (not a failure that is retried). */
      onRunFinished?: () => void;
    } = {},
    private readonly now: () => number = Date.now,
  ) {}

  private report(claimToken?: string) {
    return { actor: IN_PROCESS_EXECUTOR, claimToken, nowMs: this.now() };
  }

  async start(
    runId: string,
    attempt: number,
    claimToken?: string,
  ): Promise<StartDecision> {
    const { proceed, run } = await this.runStates.start(
      runId,
      attempt,
      this.report(claimToken),
    );
    if (proceed) this.events.onRunStarted?.();
    return { proceed, status: run.status };
  }

  async succeed(
    runId: string,
    result: RunResult,
    claimToken?: string,
  ): Promise<void> {
    await this.runStates.succeed(runId, result, this.report(claimToken));
    this.events.onRunFinished?.();
  }

  async fail(
    runId: string,
    error: string,
    options: { retrying: boolean; deadLettered?: boolean },
    claimToken?: string,
  ) {
    await this.runStates.fail(
      runId,
      { error, ...options },
      this.report(claimToken),
    );
    if (!options.retrying) this.events.onRunFinished?.();
  }
}
