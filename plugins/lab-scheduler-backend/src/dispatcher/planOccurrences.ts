import {
  occurrenceAfter,
  TaskPolicies,
  TaskSchedule,
} from '@lab-scheduler/plugin-lab-scheduler-common';

/** A run the dispatcher creates for one occurrence. */
export interface PlannedRun {
  scheduledFor: number;
  status: 'pending' | 'skipped';
  error?: string;
}

export interface OccurrencePlan {
  runs: PlannedRun[];
  /** The task's next occurrence after `now`, or null when it will not run again. */
  nextRunAt: number | null;
}

/** More missed occurrences than this are not enumerated one by one (e.g. a minutely cron after a week). */
export const MAX_OCCURRENCES_PER_CLAIM = 1000;

/**
 * Decides which runs a due task gets, applying its misfire and overlap policies. Pure: the dispatcher
 * calls it inside its claim transaction.
 *
 * An occurrence is *on time* when it is at most `graceMs` old, otherwise *missed* (the dispatcher was
 * down or behind). On-time occurrences always run. Missed ones follow the misfire policy:
 * - `skip`: none runs; the latest is recorded as a skipped run so the gap shows in the history;
 * - `run_once`: the latest runs (unless an on-time one runs anyway);
 * - `run_all`: every one within `misfireWindowSeconds` runs.
 * With overlap `skip`, every occurrence is recorded as skipped while a run of the task is active.
 */
export function planOccurrences(options: {
  schedule: TaskSchedule;
  policies: TaskPolicies;
  nextRunAt: number;
  nowMs: number;
  graceMs: number;
  hasActiveRun: boolean;
}): OccurrencePlan {
  const { schedule, policies, nowMs, graceMs } = options;
  const due: number[] = [];
  let occurrence: number | null = options.nextRunAt;
  while (
    occurrence !== null &&
    occurrence <= nowMs &&
    due.length < MAX_OCCURRENCES_PER_CLAIM
  ) {
    due.push(occurrence);
    occurrence = occurrenceAfter(schedule, occurrence);
  }
  if (occurrence !== null && occurrence <= nowMs) {
    // Too many to enumerate: jump to the first occurrence after now; older ones count as missed.
    occurrence = occurrenceAfter(schedule, nowMs);
  }
  const nextRunAt = occurrence;

  const onTime = due.filter(o => nowMs - o <= graceMs);
  const missed = due.filter(o => nowMs - o > graceMs);
  const runs: PlannedRun[] = onTime.map(o => ({
    scheduledFor: o,
    status: 'pending',
  }));

  if (missed.length > 0) {
    const latest = missed[missed.length - 1];
    switch (policies.misfire) {
      case 'skip':
        runs.unshift({
          scheduledFor: latest,
          status: 'skipped',
          error: `Missed by ${Math.round(
            (nowMs - latest) / 1000,
          )} s (misfire policy: skip)`,
        });
        break;
      case 'run_once':
        if (onTime.length === 0)
          runs.unshift({ scheduledFor: latest, status: 'pending' });
        break;
      case 'run_all': {
        const windowMs = policies.misfireWindowSeconds * 1000;
        const inWindow = missed.filter(o => nowMs - o <= windowMs);
        runs.unshift(
          ...inWindow.map(o => ({
            scheduledFor: o,
            status: 'pending' as const,
          })),
        );
        break;
      }
      default:
        break;
    }
  }

  if (options.hasActiveRun && policies.overlap === 'skip') {
    for (const run of runs) {
      if (run.status === 'pending') {
        run.status = 'skipped';
        run.error =
          'Skipped: the previous run of this task is still active (overlap policy: skip)';
      }
    }
  }
  return { runs, nextRunAt };
}
