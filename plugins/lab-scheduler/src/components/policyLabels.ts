import { TaskPolicies } from '@lab-scheduler/plugin-lab-scheduler-common';

/** The policies in words, as the form offers them and the task page shows them: written once. */
export const POLICY_FIELD_LABELS = {
  misfire: 'After downtime (misfire)',
  overlap: 'If still running (overlap)',
  notify: 'Notify the owner',
} as const;

export const MISFIRE_LABELS: Record<TaskPolicies['misfire'], string> = {
  run_once: 'Run once now',
  run_all: 'Run every missed occurrence',
  skip: 'Skip to the next occurrence',
};

export const OVERLAP_LABELS: Record<TaskPolicies['overlap'], string> = {
  skip: 'Skip this occurrence',
  allow: 'Run anyway',
};

export const NOTIFY_LABELS: Record<
  NonNullable<TaskPolicies['notify']>,
  string
> = {
  failures: 'On failures (QC fail, failed, dead-lettered)',
  every_run: 'After every run',
  off: 'Never',
};
