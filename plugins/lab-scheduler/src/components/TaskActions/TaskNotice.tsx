import { Link } from '@backstage/core-components';
import { Snackbar } from '@material-ui/core';
import { Alert } from '@material-ui/lab';

/** What just happened to a task, with a link to it (a new task is often off screen). */
export interface TaskNotice {
  message: string;
  /** Where the link goes, e.g. the task's page; none for a failure. */
  link?: { to: string; label: string };
  severity?: 'success' | 'error';
}

/**
 * A snackbar for create/save/delete/run-now outcomes. Success is a polite status (role=status) so it
 * does not interrupt; failures are alerts.
 */
export const TaskNoticeSnackbar = ({
  notice,
  onClose,
}: {
  notice: TaskNotice | undefined;
  onClose: () => void;
}) => {
  const severity = notice?.severity ?? 'success';
  return (
    <Snackbar
      open={Boolean(notice)}
      autoHideDuration={severity === 'success' ? 8000 : null}
      onClose={(_event, reason) => {
        if (reason !== 'clickaway') onClose();
      }}
      anchorOrigin={{ vertical: 'bottom', horizontal: 'center' }}
    >
      <Alert
        severity={severity}
        role={severity === 'success' ? 'status' : 'alert'}
        onClose={onClose}
        variant="filled"
      >
        {notice?.message}
        {notice?.link && (
          <>
            {' '}
            <Link to={notice.link.to} color="inherit" underline="always">
              {notice.link.label}
            </Link>
          </>
        )}
      </Alert>
    </Snackbar>
  );
};
