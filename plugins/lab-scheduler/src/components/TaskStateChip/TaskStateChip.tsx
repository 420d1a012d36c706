import { Task } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Chip, Tooltip } from '@material-ui/core';
import {
  OUTCOME_STYLES,
  OUTCOME_TEXT_COLOR,
} from '../RunOutcomeChip/RunOutcomeChip';

/** What a task's state means to a reader, as a chip's text and its tooltip. */
export function describeTaskState(
  task: Pick<Task, 'state' | 'nextRunAt' | 'lastRun'>,
): { label: string; description: string; runStatus?: string } {
  if (task.state === 'paused')
    return { label: 'Paused', description: 'Does not run until resumed' };
  if (task.state === 'completed')
    return {
      label: 'Completed',
      description: 'Has run and will not run again',
    };
  if (task.nextRunAt) return { label: 'Active', description: 'Scheduled' };
  // Active with no next run: its last occurrence was claimed and the task completes when that run ends
  // (the backend's lifecycle rules). Show the run's state, never "completed" before it ended.
  const status = task.lastRun?.status;
  if (status === 'pending' || status === 'queued' || status === 'running') {
    return {
      label: status.charAt(0).toUpperCase() + status.slice(1),
      description:
        'Its last run is under way; the task completes when that run ends',
      runStatus: status,
    };
  }
  return {
    label: 'Finishing',
    description: 'Will not run again; completes when its last run ends',
  };
}

/**
 * A task's state as a chip with text (colour is never the only signal). A task whose last run is
 * pending, queued or running shows that run's state in the run's colours.
 */
export const TaskStateChip = ({
  task,
}: {
  task: Pick<Task, 'state' | 'nextRunAt' | 'lastRun'>;
}) => {
  const { label, description, runStatus } = describeTaskState(task);
  const style = runStatus
    ? OUTCOME_STYLES[runStatus as keyof typeof OUTCOME_STYLES]
    : undefined;
  return (
    <Tooltip title={description}>
      <Chip
        size="small"
        label={label}
        data-task-state={task.state}
        variant={style ? 'default' : 'outlined'}
        style={
          style
            ? { background: style.background, color: OUTCOME_TEXT_COLOR }
            : undefined
        }
      />
    </Tooltip>
  );
};
