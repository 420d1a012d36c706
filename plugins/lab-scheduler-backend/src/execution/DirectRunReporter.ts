import type { RunResult } from '@internal/plugin-lab-scheduler-common';
import type {
  RunReporter,
  StartDecision,
} from '@internal/plugin-lab-scheduler-node';
import { RunStateStore } from '../database/RunStateStore';

/** Reports run events straight to the store: the in-process executor shares the plugin's database. */
export class DirectRunReporter implements RunReporter {
  constructor(
    private readonly runStates: RunStateStore,
    private readonly onRunFinished: () => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  async start(
    runId: string,
    attempt: number,
    claimToken?: string,
  ): Promise<StartDecision> {
    const { proceed, run } = await this.runStates.start(
      runId,
      attempt,
      this.now(),
      claimToken,
    );
    return { proceed, status: run.status };
  }

  async succeed(runId: string, result: RunResult): Promise<void> {
    await this.runStates.succeed(runId, result, this.now());
    this.onRunFinished();
  }

  async fail(
    runId: string,
    error: string,
    options: { retrying: boolean; deadLettered?: boolean },
  ) {
    await this.runStates.fail(runId, error, options, this.now());
    if (!options.retrying) this.onRunFinished();
  }
}
