import { useEffect, useState } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import type {
  Run,
  WaitingReason,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Typography } from '@material-ui/core';
import { LabSchedulerApi, labSchedulerApiRef } from '../../api';

/** How often a shown reason is asked again (the line moves as runs finish). */
const REFRESH_MS = 10_000;

/**
 * Collects the run ids asked for within one tick and fetches their reasons in one request: a list of 50
 * tasks asks once, not 50 times.
 */
class WaitingReasonBatcher {
  private waiting = new Map<
    string,
    ((reason: WaitingReason | undefined) => void)[]
  >();
  private scheduled = false;

  constructor(private readonly api: LabSchedulerApi) {}

  reasonOf(runId: string): Promise<WaitingReason | undefined> {
    return new Promise(resolve => {
      const callbacks = this.waiting.get(runId) ?? [];
      callbacks.push(resolve);
      this.waiting.set(runId, callbacks);
      if (!this.scheduled) {
        this.scheduled = true;
        setTimeout(() => this.flush(), 0);
      }
    });
  }

  private async flush() {
    const batch = this.waiting;
    this.waiting = new Map();
    this.scheduled = false;
    const ids = [...batch.keys()];
    const byRun = new Map<string, WaitingReason>();
    try {
      // The API takes up to 100 ids a request.
      for (let i = 0; i < ids.length; i += 100) {
        for (const reason of await this.api.getWaitingReasons(
          ids.slice(i, i + 100),
        ))
          byRun.set(reason.runId, reason);
      }
    } catch {
      // Without a reason the status alone is shown.
    }
    for (const [id, callbacks] of batch)
      callbacks.forEach(callback => callback(byRun.get(id)));
  }
}

const batchers = new WeakMap<LabSchedulerApi, WaitingReasonBatcher>();

function batcherOf(api: LabSchedulerApi): WaitingReasonBatcher {
  let batcher = batchers.get(api);
  if (!batcher) {
    batcher = new WaitingReasonBatcher(api);
    batchers.set(api, batcher);
  }
  return batcher;
}

/**
 * Why a pending or queued run has not started ("Waiting for plate-reader-1 (1 run at a time, 1 in
 * progress), 2 runs ahead"), next to its status; nothing for other runs.
 */
export const RunWaitingReason = ({
  run,
}: {
  run: Pick<Run, 'id' | 'status'> | null | undefined;
}) => {
  const api = useApi(labSchedulerApiRef);
  const [reason, setReason] = useState<WaitingReason | undefined>();
  const waiting =
    run !== null &&
    run !== undefined &&
    (run.status === 'pending' || run.status === 'queued');
  const runId = run?.id;

  useEffect(() => {
    setReason(undefined);
    if (!waiting || !runId) return undefined;
    let cancelled = false;
    const load = () =>
      batcherOf(api)
        .reasonOf(runId)
        .then(answer => !cancelled && setReason(answer));
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [api, runId, waiting, run?.status]);

  if (!waiting || !reason) return null;
  return (
    <Typography
      variant="caption"
      display="block"
      data-testid="waiting-reason"
      data-code={reason.code}
    >
      {reason.message}
    </Typography>
  );
};
