import { useState } from 'react';
import { useApi, useRouteRef } from '@backstage/core-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import { EntityDisplayName } from '@backstage/plugin-catalog-react';
import {
  Task,
  taskDeletePermission,
  taskUpdatePermission,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import {
  Button,
  Dialog,
  DialogActions,
  DialogContent,
  DialogContentText,
  DialogTitle,
  IconButton,
  Tooltip,
} from '@material-ui/core';
import DeleteIcon from '@material-ui/icons/Delete';
import EditIcon from '@material-ui/icons/Edit';
import PauseIcon from '@material-ui/icons/Pause';
import PlayArrowIcon from '@material-ui/icons/PlayArrow';
import FlashOnIcon from '@material-ui/icons/FlashOn';
import { labSchedulerApiRef } from '../../api';
import { taskRouteRef } from '../../routes';
import { TaskFormDialog } from '../TaskFormDialog';
import { requestErrorMessage } from '../TaskFormDialog/humanErrors';
import { TaskNotice, TaskNoticeSnackbar } from './TaskNotice';

type Confirming = 'run' | 'delete' | undefined;

/**
 * Edit, pause/resume, run now and delete — each shown only when the permission policy allows it on this
 * task (the server checks again). Run now and delete ask first; each outcome is told in a snackbar with a
 * link to the task (through `onNotice` when the row may disappear, e.g. after a delete).
 */
export const TaskActions = ({
  task,
  onChanged,
  onNotice,
}: {
  task: Task;
  onChanged: () => void;
  /** Shows an outcome; without it the actions show their own snackbar. */
  onNotice?: (notice: TaskNotice) => void;
}) => {
  const api = useApi(labSchedulerApiRef);
  const taskLink = useRouteRef(taskRouteRef);
  const canUpdate = usePermission({
    permission: taskUpdatePermission,
    resourceRef: task.id,
  }).allowed;
  const canDelete = usePermission({
    permission: taskDeletePermission,
    resourceRef: task.id,
  }).allowed;
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState<Confirming>();
  const [ownNotice, setOwnNotice] = useState<TaskNotice>();
  const notify = onNotice ?? setOwnNotice;
  const link = { to: taskLink({ id: task.id }), label: 'Open task' };

  const act = async (
    done: string,
    what: string,
    action: () => Promise<unknown>,
    // A deleted task has no page to open (it shows as deleted).
    linkToTask = true,
  ) => {
    try {
      await action();
      notify({
        message: `${done}: “${task.name}”.`,
        link: linkToTask ? link : undefined,
      });
      onChanged();
    } catch (error) {
      notify({ message: requestErrorMessage(error, what), severity: 'error' });
    }
  };

  return (
    <span style={{ whiteSpace: 'nowrap' }}>
      {canUpdate && (
        <>
          <Tooltip title="Run now">
            <IconButton
              size="small"
              aria-label={`Run ${task.name} now`}
              onClick={() => setConfirming('run')}
            >
              <FlashOnIcon fontSize="small" />
            </IconButton>
          </Tooltip>
          {task.state === 'active' && (
            <Tooltip title="Pause">
              <IconButton
                size="small"
                aria-label={`Pause ${task.name}`}
                onClick={() =>
                  act('Paused', 'pause this task', () => api.pauseTask(task.id))
                }
              >
                <PauseIcon fontSize="small" />
              </IconButton>
            </Tooltip>
          )}
          {task.state === 'paused' && (
            <Tooltip title="Resume">
              <IconButton
                size="small"
                aria-label={`Resume ${task.name}`}
                onClick={() =>
                  act('Resumed', 'resume this task', () =>
                    api.resumeTask(task.id),
                  )
                }
              >
                <PlayArrowIcon fontSize="small" />
              </IconButton>
            </Tooltip>
          )}
          <Tooltip title="Edit">
            <IconButton
              size="small"
              aria-label={`Edit ${task.name}`}
              onClick={() => setEditing(true)}
            >
              <EditIcon fontSize="small" />
            </IconButton>
          </Tooltip>
          <TaskFormDialog
            open={editing}
            task={task}
            onClose={() => setEditing(false)}
            onSaved={saved => {
              notify({ message: `Saved “${saved.name}”.`, link });
              onChanged();
            }}
          />
        </>
      )}
      {canDelete && (
        <Tooltip title="Delete">
          <IconButton
            size="small"
            aria-label={`Delete ${task.name}`}
            onClick={() => setConfirming('delete')}
          >
            <DeleteIcon fontSize="small" />
          </IconButton>
        </Tooltip>
      )}
      <Dialog
        open={confirming !== undefined}
        onClose={() => setConfirming(undefined)}
        aria-labelledby={`confirm-${task.id}`}
      >
        <DialogTitle id={`confirm-${task.id}`}>
          {confirming === 'run'
            ? `Run “${task.name}” now?`
            : `Delete “${task.name}”?`}
        </DialogTitle>
        <DialogContent>
          <DialogContentText component="div">
            {confirming === 'run' ? (
              <>
                A measurement starts on{' '}
                <EntityDisplayName entityRef={task.instrumentRef} hideIcon /> as
                soon as it is free, outside the schedule. The scheduled runs
                stay as they are.
              </>
            ) : (
              'It will not run again. Its run history and audit trail are kept.'
            )}
          </DialogContentText>
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setConfirming(undefined)}>Cancel</Button>
          <Button
            color={confirming === 'run' ? 'primary' : 'secondary'}
            variant="contained"
            onClick={() => {
              const what = confirming;
              setConfirming(undefined);
              if (what === 'run') {
                act('Run started', 'start a run', () =>
                  api.triggerTask(task.id),
                );
              } else {
                act(
                  'Deleted',
                  'delete this task',
                  () => api.deleteTask(task.id),
                  false,
                );
              }
            }}
          >
            {confirming === 'run' ? 'Run now' : 'Delete'}
          </Button>
        </DialogActions>
      </Dialog>
      {!onNotice && (
        <TaskNoticeSnackbar
          notice={ownNotice}
          onClose={() => setOwnNotice(undefined)}
        />
      )}
    </span>
  );
};
