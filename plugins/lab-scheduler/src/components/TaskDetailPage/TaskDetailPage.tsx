import {
  Content,
  ContentHeader,
  InfoCard,
  Progress,
  ResponseErrorPanel,
  StructuredMetadataTable,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import { describeSchedule } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Grid, Typography } from '@material-ui/core';
import { useParams } from 'react-router-dom';
import { labSchedulerApiRef } from '../../api';
import { TaskActions } from '../TaskActions';
import { TaskExportButtons } from '../ExportButtons';
import { RunHistory } from '../RunHistory';
import { formatInstant, formatNextRun } from '../TaskTable';
import { TrendChart } from '../TrendChart';
import { isRunUnderWay, useLivePolling } from '../useRunUpdates';
import { ActorName, AuditTrail } from './AuditTrail';
import { DeletedTask } from './DeletedTask';
import { MeasurementParameters } from './MeasurementParameters';
import { TaskPolicyList } from './TaskPolicyList';
import { TaskBreadcrumbs } from './TaskBreadcrumbs';
import { RunWaitingReason } from '../WaitingReason';
import { TaskStateChip } from '../TaskStateChip';
import { useMeasurementTypes } from '../TaskFormDialog/useMeasurementTypes';

const time = formatInstant;

/**
 * One task: its definition, run history and audit trail, reloaded when the backend signals a change
 * (polling without the signals plugin).
 */
export const TaskDetailPage = () => {
  const { id } = useParams();
  const api = useApi(labSchedulerApiRef);
  // The backend's types: a type a module added shows its title, not its name.
  const measurementTypes = useMeasurementTypes();
  const task = useLivePolling(
    () => api.getTask(id!),
    [api, id],
    undefined,
    t => isRunUnderWay(t.lastRun?.status),
  );
  const runs = useLivePolling(
    () => api.listRuns(id!, { limit: 100 }),
    [api, id],
    undefined,
    page => page.items.some(run => isRunUnderWay(run.status)),
  );
  const audit = useLivePolling(
    () => api.listAudit(id!, { limit: 200 }),
    [api, id],
    15000,
  );

  // A deleted task answers 404, but its audit trail is kept: show what happened to it. A 404 is final
  // even while the polling keeps the last good value on screen (the task was deleted while open here,
  // from this page or elsewhere); other errors are passing, and the last good value stays.
  if ((task.error as { statusCode?: number } | undefined)?.statusCode === 404)
    return <DeletedTask audit={audit.value?.items} loading={audit.loading} />;
  if (task.error && !task.value) {
    return (
      <Content>
        <ResponseErrorPanel error={task.error} />
      </Content>
    );
  }
  if (!task.value) return <Progress />;
  const t = task.value;
  const refresh = () => {
    task.refresh();
    runs.refresh();
    audit.refresh();
  };
  return (
    <Content>
      <TaskBreadcrumbs name={t.name} />
      <ContentHeader title={t.name}>
        <TaskActions task={t} onChanged={refresh} />
      </ContentHeader>
      <Grid container spacing={3}>
        <Grid item xs={12} md={6}>
          <InfoCard title="Definition">
            {t.description && (
              <Typography paragraph>{t.description}</Typography>
            )}
            <StructuredMetadataTable
              metadata={{
                instrument: <EntityRefLink entityRef={t.instrumentRef} />,
                measurement:
                  measurementTypes.byType(t.measurement.type)?.title ??
                  t.measurement.type,
                parameters: (
                  <MeasurementParameters
                    parameters={t.measurement.parameters}
                    schema={
                      measurementTypes.byType(t.measurement.type)
                        ?.parameterSchema
                    }
                  />
                ),
                schedule: describeSchedule(t.schedule),
                'next run': formatNextRun(t.nextRunAt),
                state: <TaskStateChip task={t} />,
                owner: <EntityRefLink entityRef={t.owner} />,
                policies: <TaskPolicyList policies={t.policies} />,
                version: t.version,
                created: (
                  <>
                    {time(t.createdAt)} by <ActorName actor={t.createdBy} />
                  </>
                ),
                updated: (
                  <>
                    {time(t.updatedAt)} by <ActorName actor={t.updatedBy} />
                  </>
                ),
              }}
            />
          </InfoCard>
        </Grid>
        <Grid item xs={12} md={6}>
          <AuditTrail
            entries={audit.value?.items ?? []}
            loading={audit.loading && !audit.value}
          />
        </Grid>
        <Grid item xs={12}>
          <InfoCard title="Trend">
            <TrendChart
              task={t}
              runs={runs.value?.items ?? []}
              measurementType={measurementTypes.byType(t.measurement.type)}
            />
          </InfoCard>
        </Grid>
        <Grid item xs={12}>
          <div
            style={{
              display: 'flex',
              justifyContent: 'flex-end',
              alignItems: 'center',
              gap: 8,
            }}
          >
            <Typography variant="body2">Download the run history:</Typography>
            <TaskExportButtons taskId={t.id} />
          </div>
        </Grid>
        <Grid item xs={12}>
          <RunHistory
            runs={runs.value?.items ?? []}
            loading={runs.loading && !runs.value}
            statusDetail={run => <RunWaitingReason run={run} />}
            emptyContent={
              <Typography style={{ padding: 16 }}>
                No runs yet: the first one is {formatNextRun(t.nextRunAt)}.
              </Typography>
            }
          />
        </Grid>
      </Grid>
    </Content>
  );
};
