import {
  RecentResult,
  Run,
  runOutcome,
} from '@lab-scheduler/plugin-lab-scheduler-common';

/** A recent result for component tests: run i of task i, QC pass with raw data unless overridden. */
export function recentResult(i: number, over: Partial<Run> = {}): RecentResult {
  const run: Run = {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    taskId: `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    scheduledFor: '2027-01-01T09:00:00.000Z',
    status: 'succeeded',
    attempt: 1,
    claimedAt: null,
    publishedAt: null,
    startedAt: '2027-01-01T09:00:01.000Z',
    finishedAt: '2027-01-01T09:00:05.000Z',
    result: {
      qc: { status: 'pass', checks: [] },
      rawData: { uri: 'file:///x', bytes: 1, sha256: '0'.repeat(64) },
    },
    error: null,
    ...over,
  };
  return {
    run: { ...run, outcome: runOutcome(run) },
    task: {
      id: run.taskId,
      name: `One-time task ${i}`,
      instrumentRef: 'resource:default/balance-1',
      owner: 'user:default/ada',
      measurementType: 'mass-reading',
    },
  };
}
