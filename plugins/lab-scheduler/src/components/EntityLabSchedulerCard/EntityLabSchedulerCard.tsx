import { InfoCard, Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import { describeSchedule } from '@internal/plugin-lab-scheduler-common';
import { List, ListItem, ListItemText, Typography } from '@material-ui/core';
import useAsync from 'react-use/esm/useAsync';
import { labSchedulerApiRef } from '../../api';
import { formatNextRun, RunStatusChip } from '../TaskTable';

/** The next scheduled measurements on the instrument of the current catalog page. */
export const EntityLabSchedulerCard = () => {
  const { entity } = useEntity();
  const api = useApi(labSchedulerApiRef);
  const instrumentRef = stringifyEntityRef(entity);
  const { value, loading, error } = useAsync(
    () => api.listTasks({ instrument: instrumentRef, limit: 5 }),
    [api, instrumentRef],
  );

  return (
    <InfoCard title="Scheduled measurements">
      {loading && <Progress />}
      {error && <ResponseErrorPanel error={error} />}
      {value && value.items.length === 0 && (
        <Typography variant="body2">
          No measurements are scheduled on this instrument.
        </Typography>
      )}
      {value && value.items.length > 0 && (
        <List dense>
          {value.items.map(task => (
            <ListItem key={task.id}>
              <ListItemText
                primary={task.name}
                secondary={`${describeSchedule(task.schedule)} — next: ${formatNextRun(task.nextRunAt)}`}
              />
              <RunStatusChip run={task.lastRun} />
            </ListItem>
          ))}
        </List>
      )}
    </InfoCard>
  );
};
