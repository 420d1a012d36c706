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
import { taskRouteRef } from '../../routes';
import { TaskFormDialog } from '../TaskFormDialog';
import { formatNextRun, RunStatusChip } from '../TaskTable';
import { usePolling } from '../usePolling';

/**
 * For an instrument's catalog page: the next scheduled measurements on it with their last results, and
 * "Schedule a measurement" prefilled with the instrument.
 */
export const EntityLabSchedulerCard = () => {
  const { entity } = useEntity();
  const api = useApi(labSchedulerApiRef);
  const taskLink = useRouteRef(taskRouteRef);
  const canCreate = usePermission({ permission: taskCreatePermission }).allowed;
  const [creating, setCreating] = useState(false);
  const instrumentRef = stringifyEntityRef(entity);
  const { value, loading, error, refresh } = usePolling(
    () => api.listTasks({ instrument: instrumentRef, limit: 5 }),
    [api, instrumentRef],
  );

  return (
    <InfoCard
      title="Scheduled measurements"
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
        onSaved={refresh}
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
