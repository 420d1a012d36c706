import { backoffDelay } from '@lab-scheduler/plugin-lab-scheduler-common';
import type {
  RunEvent,
  RunResult,
  RunStatus,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import type { ServiceTokenProvider } from './serviceToken';

export type { RunEvent, RunResult };

/** Answer to a `started` event: whether this delivery should measure. */
export interface StartDecision {
  proceed: boolean;
  status: RunStatus;
}

/**
 * Records status transitions of runs with their owner (the backend plugin). The start transition is
 * conditional, which makes a redelivered message measure at most once.
 */
export interface RunReporter {
  /** `claimToken`: the message's (fences superseded claims; see RunMessage.claimToken). */
  start(
    runId: string,
    attempt: number,
    claimToken?: string,
  ): Promise<StartDecision>;
  succeed(runId: string, result: RunResult, claimToken?: string): Promise<void>;
  fail(
    runId: string,
    error: string,
    options: { retrying: boolean; deadLettered?: boolean },
    claimToken?: string,
  ): Promise<void>;
}

/**
 * Reports to the backend's `POST /api/lab-scheduler/runs/:id/events` with a service token: a fixed
 * string, or a provider whose value may change (rotation). With a provider, a 401 asks it for a newer
 * token and sends the event once more; a 401 happens before the backend records anything, so the
 * repeat cannot apply an event twice.
 */
export class HttpRunReporter implements RunReporter {
  constructor(
    private readonly options: {
      baseUrl: string;
      token: string | ServiceTokenProvider;
      timeoutMs?: number;
      /**
       * How long to keep retrying a result or failure report the backend could not take (5xx, network
       * error): a measurement whose outcome is lost is measured again on redelivery. Default 60 000.
       */
      reportRetryMs?: number;
      fetch?: typeof fetch;
    },
  ) {}

  /**
   * Sends a final report (succeeded, failed), retrying while the backend cannot take it — a restarting
   * database, a rolling deployment. Both reports are idempotent (a repeat of an applied one changes
   * nothing), so a retry after a lost answer is safe. `started` is not retried here: its answer decides
   * whether to measure, and a start whose answer was lost is redelivered by the queue instead.
   */
  private async postFinal(runId: string, event: RunEvent): Promise<void> {
    const deadline = Date.now() + (this.options.reportRetryMs ?? 60_000);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.post(runId, event);
        return;
      } catch (error) {
        const status = (error as { status?: number }).status;
        const retryable = status === undefined || status >= 500;
        const delay = backoffDelay({ attempt, baseMs: 250, maxMs: 8_000 });
        if (!retryable || Date.now() + delay > deadline) throw error;
        await new Promise(r => setTimeout(r, delay));
      }
    }
  }

  private send(runId: string, event: RunEvent, token: string) {
    const doFetch = this.options.fetch ?? fetch;
    return doFetch(
      `${this.options.baseUrl.replace(/\/$/, '')}/runs/${encodeURIComponent(
        runId,
      )}/events`,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Authorization: `Bearer ${token}`,
        },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      },
    );
  }

  private async post(runId: string, event: RunEvent): Promise<any> {
    const { token } = this.options;
    const provide = typeof token === 'string' ? undefined : token;
    const used = provide ? await provide() : (token as string);
    let response = await this.send(runId, event, used);
    if (response.status === 401 && provide) {
      const fresh = await provide({ rejected: used });
      if (fresh !== used) {
        await response.body?.cancel();
        response = await this.send(runId, event, fresh);
      }
    }
    const text = await response.text();
    if (!response.ok) {
      throw Object.assign(
        new Error(
          `Reporting ${event.type} for run ${runId} failed: ${
            response.status
          } ${text.slice(0, 300)}`,
        ),
        { status: response.status },
      );
    }
    return text ? JSON.parse(text) : {};
  }

  async start(
    runId: string,
    attempt: number,
    claimToken?: string,
  ): Promise<StartDecision> {
    const body = await this.post(runId, {
      type: 'started',
      attempt,
      ...(claimToken === undefined ? {} : { claimToken }),
    });
    return { proceed: Boolean(body.proceed), status: body.status };
  }

  async succeed(
    runId: string,
    result: RunResult,
    claimToken?: string,
  ): Promise<void> {
    await this.postFinal(runId, {
      type: 'succeeded',
      result,
      ...(claimToken === undefined ? {} : { claimToken }),
    });
  }

  async fail(
    runId: string,
    error: string,
    options: { retrying: boolean; deadLettered?: boolean },
    claimToken?: string,
  ) {
    await this.postFinal(runId, {
      type: 'failed',
      error,
      ...options,
      ...(claimToken === undefined ? {} : { claimToken }),
    });
  }
}
