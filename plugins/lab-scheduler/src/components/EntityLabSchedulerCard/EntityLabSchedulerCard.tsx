import { useState } from 'react';
import {
  InfoCard,
  Link,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi, useRouteRef } from '@backstage/core-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  describeSchedule,
  taskCreatePermission,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import {
  Button,
  List,
  ListItem,
  ListItemText,
  Typography,
} from '@material-ui/core';
import { labSchedulerApiRef } from '../../api';
import { rootRouteRef, taskRouteRef } from '../../routes';
import { TaskNotice, TaskNoticeSnackbar } from '../TaskActions';
import { TaskFormDialog } from '../TaskFormDialog';
import { formatNextRun, RunStatusChip } from '../TaskTable';
import { anyTaskRunUnderWay, useLivePolling } from '../useRunUpdates';

/**
 * For an instrument's catalog page: the next scheduled measurements on it with their last results, and
 * "Schedule a measurement" prefilled with the instrument.
 */
export const EntityLabSchedulerCard = () => {
  const { entity } = useEntity();
  const api = useApi(labSchedulerApiRef);
  const taskLink = useRouteRef(taskRouteRef);
  const rootLink = useRouteRef(rootRouteRef);
  const [notice, setNotice] = useState<TaskNotice>();
  const canCreate = usePermission({ permission: taskCreatePermission }).allowed;
  const [creating, setCreating] = useState(false);
  const instrumentRef = stringifyEntityRef(entity);
  // Last runs follow the backend's run-update signal (polling without signals).
  const { value, loading, error, refresh } = useLivePolling(
    () => api.listTasks({ instrument: instrumentRef, limit: 5, count: true }),
    [api, instrumentRef],
    undefined,
    anyTaskRunUnderWay,
  );

  return (
    <InfoCard
      title="Scheduled measurements"
      // No "View all 0 tasks" under "No measurements are scheduled": the link only when there are some.
      deepLink={
        value?.total?.count === 0
          ? undefined
          : {
              title: value?.total
                ? `View all ${value.total.count}${
                    value.total.capped ? '+' : ''
                  } ${
                    value.total.count === 1 && !value.total.capped
                      ? 'task'
                      : 'tasks'
                  }`
                : 'View all tasks',
              link: `${rootLink()}?${new URLSearchParams({
                instrument: instrumentRef,
              })}`,
            }
      }
      action={
        canCreate ? (
          <Button color="primary" onClick={() => setCreating(true)}>
            Schedule a measurement
          </Button>
        ) : undefined
      }
    >
      <TaskFormDialog
        open={creating}
        instrumentRef={instrumentRef}
        onClose={() => setCreating(false)}
        onSaved={task => {
          setNotice({
            message: `Created “${task.name}”.`,
            link: { to: taskLink({ id: task.id }), label: 'Open task' },
          });
          refresh();
        }}
      />
      <TaskNoticeSnackbar
        notice={notice}
        onClose={() => setNotice(undefined)}
      />
      {loading && !value && <Progress />}
      {error && !value && <ResponseErrorPanel error={error} />}
      {value && value.items.length === 0 && (
        <Typography variant="body2">
          No measurements are scheduled on this instrument.
        </Typography>
      )}
      {value && value.items.length > 0 && (
        <List dense aria-label="Scheduled measurements on this instrument">
          {value.items.map(task => (
            <ListItem key={task.id} divider>
              <ListItemText
                primary={
                  <Link to={taskLink({ id: task.id })}>{task.name}</Link>
                }
                // A div, not the default <p>: the status chip inside is a block (a div in a p is invalid
                // HTML, and React warns).
                secondaryTypographyProps={{ component: 'div' }}
                secondary={
                  <>
                    {describeSchedule(task.schedule)}
                    <br />
                    Next: {formatNextRun(task.nextRunAt)} · Last run:{' '}
                    <RunStatusChip run={task.lastRun} />
                  </>
                }
              />
            </ListItem>
          ))}
        </List>
      )}
    </InfoCard>
  );
};
