import { ReactNode } from 'react';
import { Link, Progress } from '@backstage/core-components';
import { useRouteRef } from '@backstage/core-plugin-api';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import {
  describeSchedule,
  Task,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Box, makeStyles, Paper, Typography } from '@material-ui/core';
import { taskRouteRef } from '../../routes';
import { RunWaitingReason } from '../WaitingReason';
import { TaskStateChip } from '../TaskStateChip';
import { formatNextRun, RunStatusChip } from './TaskTable';

const useStyles = makeStyles(theme => ({
  list: { listStyle: 'none', margin: 0, padding: 0 },
  card: {
    padding: theme.spacing(1.5),
    marginBottom: theme.spacing(1),
    // Long names and refs wrap at word boundaries instead of widening the page.
    overflowWrap: 'anywhere',
  },
  line: { display: 'flex', flexWrap: 'wrap', gap: theme.spacing(1) },
}));

/**
 * The task list on a phone: one card per task with what matters first (name, next run, last result),
 * the rest below, and the actions on their own line, so nothing scrolls sideways at 390 px.
 */
export const TaskCards = ({
  tasks,
  loading,
  actions,
}: {
  tasks: Task[];
  loading?: boolean;
  actions?: (task: Task) => ReactNode;
}) => {
  const classes = useStyles();
  const taskLink = useRouteRef(taskRouteRef);
  if (loading) return <Progress />;
  return (
    <ul className={classes.list} aria-label="Tasks">
      {tasks.map(task => (
        <li key={task.id}>
          <Paper className={classes.card} variant="outlined">
            <Typography variant="subtitle1" component="h3">
              <Link to={taskLink({ id: task.id })}>{task.name}</Link>
            </Typography>
            <Typography variant="body2">
              Next run: {formatNextRun(task.nextRunAt)}
            </Typography>
            <Box className={classes.line} alignItems="center">
              <Typography variant="body2" component="span">
                Last run:
              </Typography>
              <RunStatusChip run={task.lastRun} />
              <TaskStateChip task={task} />
            </Box>
            <RunWaitingReason run={task.lastRun} />
            <Typography variant="body2" color="textSecondary">
              {describeSchedule(task.schedule)}
            </Typography>
            <Box className={classes.line}>
              <Typography variant="body2" component="span">
                On <EntityRefLink entityRef={task.instrumentRef} hideIcon />
              </Typography>
              <Typography variant="body2" component="span">
                Owner <EntityRefLink entityRef={task.owner} hideIcon />
              </Typography>
            </Box>
            {actions && <Box mt={0.5}>{actions(task)}</Box>}
          </Paper>
        </li>
      ))}
    </ul>
  );
};
