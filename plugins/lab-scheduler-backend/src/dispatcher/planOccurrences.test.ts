import {
  DEFAULT_TASK_POLICIES,
  TaskPolicies,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { planOccurrences } from './planOccurrences';

const MIN = 60_000;
const T0 = Date.parse('2026-12-01T09:00:00Z');
const everyMinute = {
  type: 'cron' as const,
  expression: '* * * * *',
  timezone: 'UTC',
};

function plan(
  policies: Partial<TaskPolicies>,
  nowMs: number,
  hasActiveRun = false,
) {
  return planOccurrences({
    schedule: everyMinute,
    policies: { ...DEFAULT_TASK_POLICIES, ...policies },
    nextRunAt: T0,
    nowMs,
    graceMs: MIN,
    hasActiveRun,
  });
}

describe('planOccurrences', () => {
  it('runs an on-time occurrence and advances to the next one', () => {
    expect(plan({}, T0 + 5)).toEqual({
      runs: [{ scheduledFor: T0, status: 'pending' }],
      nextRunAt: T0 + MIN,
    });
  });

  it('misfire run_once: runs only the latest missed occurrence', () => {
    const result = plan({ misfire: 'run_once' }, T0 + 10 * MIN + 30_000);
    // 09:00 … 09:10 are due; 09:10 is on time (30 s late), the others missed.
    expect(result.runs).toEqual([
      { scheduledFor: T0 + 10 * MIN, status: 'pending' },
    ]);
    expect(result.nextRunAt).toBe(T0 + 11 * MIN);
  });

  it('misfire run_once with nothing on time runs the latest missed one', () => {
    const result = plan(
      { misfire: 'run_once' },
      T0 + 10 * MIN - 1 + 2 * MIN - 30_000,
    );
    expect(result.runs.filter(r => r.status === 'pending')).toHaveLength(1);
  });

  it('misfire skip: records the gap as one skipped run and runs nothing missed', () => {
    const result = plan({ misfire: 'skip' }, T0 + 5 * MIN + 30_000);
    expect(result.runs).toEqual([
      expect.objectContaining({
        scheduledFor: T0 + 4 * MIN,
        status: 'skipped',
      }),
      { scheduledFor: T0 + 5 * MIN, status: 'pending' },
    ]);
  });

  it('misfire run_all: runs every missed occurrence within the window', () => {
    const result = plan(
      { misfire: 'run_all', misfireWindowSeconds: 180 },
      T0 + 10 * MIN,
    );
    expect(result.runs.map(r => (r.scheduledFor - T0) / MIN)).toEqual([
      7, 8, 9, 10,
    ]);
    expect(result.runs.every(r => r.status === 'pending')).toBe(true);
  });

  it('overlap skip: skips while a previous run is active; allow runs anyway', () => {
    expect(plan({ overlap: 'skip' }, T0 + 5, true).runs).toEqual([
      expect.objectContaining({
        scheduledFor: T0,
        status: 'skipped',
        error: expect.stringMatching(/still active/),
      }),
    ]);
    expect(plan({ overlap: 'allow' }, T0 + 5, true).runs).toEqual([
      { scheduledFor: T0, status: 'pending' },
    ]);
  });

  it('completes a one-time task', () => {
    const result = planOccurrences({
      schedule: { type: 'once', at: new Date(T0).toISOString() },
      policies: DEFAULT_TASK_POLICIES,
      nextRunAt: T0,
      nowMs: T0 + 3,
      graceMs: MIN,
      hasActiveRun: false,
    });
    expect(result).toEqual({
      runs: [{ scheduledFor: T0, status: 'pending' }],
      nextRunAt: null,
    });
  });

  it('does not enumerate a week of missed minutes one by one', () => {
    const result = plan(
      { misfire: 'run_all', misfireWindowSeconds: 600 },
      T0 + 7 * 24 * 60 * MIN,
    );
    expect(result.nextRunAt).toBe(T0 + 7 * 24 * 60 * MIN + MIN);
    expect(result.runs.length).toBeLessThanOrEqual(11);
  });
});
