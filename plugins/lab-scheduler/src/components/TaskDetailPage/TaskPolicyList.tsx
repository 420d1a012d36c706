import {
  humanDuration,
  TaskPolicies,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Typography } from '@material-ui/core';
import {
  MISFIRE_LABELS,
  NOTIFY_LABELS,
  OVERLAP_LABELS,
  POLICY_FIELD_LABELS,
} from '../policyLabels';

/** A task's policies in the words of the form that set them. */
export const TaskPolicyList = ({ policies }: { policies: TaskPolicies }) => {
  const lines: [string, string][] = [
    [
      POLICY_FIELD_LABELS.misfire,
      policies.misfire === 'run_all'
        ? `${MISFIRE_LABELS.run_all} of the last ${humanDuration(
            policies.misfireWindowSeconds * 1000,
          )}`
        : MISFIRE_LABELS[policies.misfire],
    ],
    [POLICY_FIELD_LABELS.overlap, OVERLAP_LABELS[policies.overlap]],
    [POLICY_FIELD_LABELS.notify, NOTIFY_LABELS[policies.notify ?? 'failures']],
  ];
  return (
    <>
      {lines.map(([label, value]) => (
        <Typography key={label} variant="body2" component="div">
          {label}: {value ?? '—'}
        </Typography>
      ))}
    </>
  );
};
