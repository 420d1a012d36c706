import { useState } from 'react';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
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
import { TaskFormDialog } from '../TaskFormDialog';

/**
 * Edit, pause/resume, run now and delete — each shown only when the permission policy allows it on this
 * task (the server checks again).
 */
export const TaskActions = ({
  task,
  onChanged,
}: {
  task: Task;
  onChanged: () => void;
}) => {
  const api = useApi(labSchedulerApiRef);
  const alertApi = useApi(alertApiRef);
  const canUpdate = usePermission({
    permission: taskUpdatePermission,
    resourceRef: task.id,
  }).allowed;
  const canDelete = usePermission({
    permission: taskDeletePermission,
    resourceRef: task.id,
  }).allowed;
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);

  const act = async (what: string, action: () => Promise<unknown>) => {
    try {
      await action();
      alertApi.post({
        message: `${what}: ${task.name}`,
        severity: 'success',
        display: 'transient',
      });
      onChanged();
    } catch (error) {
      alertApi.post({
        message: `${what} failed: ${(error as Error).message}`,
        severity: 'error',
      });
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
              onClick={() => act('Run started', () => api.triggerTask(task.id))}
            >
              <FlashOnIcon fontSize="small" />
            </IconButton>
          </Tooltip>
          {task.state === 'active' && (
            <Tooltip title="Pause">
              <IconButton
                size="small"
                aria-label={`Pause ${task.name}`}
                onClick={() => act('Paused', () => api.pauseTask(task.id))}
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
                onClick={() => act('Resumed', () => api.resumeTask(task.id))}
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
            onSaved={() => onChanged()}
          />
        </>
      )}
      {canDelete && (
        <>
          <Tooltip title="Delete">
            <IconButton
              size="small"
              aria-label={`Delete ${task.name}`}
              onClick={() => setConfirmDelete(true)}
            >
              <DeleteIcon fontSize="small" />
            </IconButton>
          </Tooltip>
          <Dialog
            open={confirmDelete}
            onClose={() => setConfirmDelete(false)}
            aria-labelledby={`delete-${task.id}`}
          >
            <DialogTitle id={`delete-${task.id}`}>
              Delete “{task.name}”?
            </DialogTitle>
            <DialogContent>
              <DialogContentText>
                It will not run again. Its run history and audit trail are kept.
              </DialogContentText>
            </DialogContent>
            <DialogActions>
              <Button onClick={() => setConfirmDelete(false)}>Cancel</Button>
              <Button
                color="secondary"
                variant="contained"
                onClick={() => {
                  setConfirmDelete(false);
                  act('Deleted', () => api.deleteTask(task.id));
                }}
              >
                Delete
              </Button>
            </DialogActions>
          </Dialog>
        </>
      )}
    </span>
  );
};
