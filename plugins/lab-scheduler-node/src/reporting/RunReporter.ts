import type {
  RunEvent,
  RunResult,
  RunStatus,
} from '@internal/plugin-lab-scheduler-common';
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
      fetch?: typeof fetch;
    },
  ) {}

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
      throw new Error(
        `Reporting ${event.type} for run ${runId} failed: ${
          response.status
        } ${text.slice(0, 300)}`,
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
    await this.post(runId, {
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
    await this.post(runId, {
      type: 'failed',
      error,
      ...options,
      ...(claimToken === undefined ? {} : { claimToken }),
    });
  }
}
