import {
  Content,
  ContentHeader,
  InfoCard,
  Progress,
  ResponseErrorPanel,
  StructuredMetadataTable,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import {
  describeSchedule,
  measurementTypes,
  Run,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Button, Grid, Typography } from '@material-ui/core';
import { useParams } from 'react-router-dom';
import { labSchedulerApiRef } from '../../api';
import { TaskActions } from '../TaskActions';
import { formatInstant, formatNextRun, RunStatusChip } from '../TaskTable';
import { usePolling } from '../usePolling';
import { AuditTrail } from './AuditTrail';
import { DeletedTask } from './DeletedTask';
import { TaskBreadcrumbs } from './TaskBreadcrumbs';

const ms = (from: string | null, to: string | null) =>
  from && to ? `${Math.max(0, Date.parse(to) - Date.parse(from))} ms` : '—';
const time = formatInstant;

function summaryText(run: Run): string {
  const summary = (run.result as any)?.summary as
    | Record<string, unknown>
    | undefined;
  if (!summary) return '';
  return Object.entries(summary)
    .filter(([, v]) => typeof v !== 'object' || v === null)
    .slice(0, 6)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
}

const RawDataButton = ({ run }: { run: Run }) => {
  const api = useApi(labSchedulerApiRef);
  const alertApi = useApi(alertApiRef);
  if (!(run.result as any)?.rawData) return null;
  return (
    <Button
      size="small"
      onClick={async () => {
        try {
          const blob = await api.getRawData(run.id);
          window.open(URL.createObjectURL(blob), '_blank');
        } catch (error) {
          alertApi.post({
            message: `Raw data unavailable: ${(error as Error).message}`,
            severity: 'error',
          });
        }
      }}
    >
      Raw data
    </Button>
  );
};

const runColumns: TableColumn<Run>[] = [
  { title: 'Status', render: run => <RunStatusChip run={run} /> },
  { title: 'Scheduled', render: run => time(run.scheduledFor) },
  { title: 'Started', render: run => time(run.startedAt) },
  { title: 'Finished', render: run => time(run.finishedAt) },
  { title: 'Lateness', render: run => ms(run.scheduledFor, run.publishedAt) },
  { title: 'Duration', render: run => ms(run.startedAt, run.finishedAt) },
  { title: 'Attempt', field: 'attempt' },
  {
    title: 'QC',
    render: run => ((run.result as any)?.qc?.status ?? '—').replace('_', ' '),
  },
  { title: 'Result', render: run => summaryText(run) || run.error || '—' },
  { title: '', render: run => <RawDataButton run={run} /> },
];

/** One task: its definition, run history (live) and audit trail. */
export const TaskDetailPage = () => {
  const { id } = useParams();
  const api = useApi(labSchedulerApiRef);
  const task = usePolling(() => api.getTask(id!), [api, id]);
  const runs = usePolling(() => api.listRuns(id!, { limit: 100 }), [api, id]);
  const audit = usePolling(
    () => api.listAudit(id!, { limit: 200 }),
    [api, id],
    15000,
  );

  if (task.error && !task.value) {
    // A deleted task answers 404, but its audit trail is kept: show what happened to it.
    if ((task.error as { statusCode?: number }).statusCode === 404)
      return <DeletedTask audit={audit.value?.items} loading={audit.loading} />;
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
                  measurementTypes[t.measurement.type]?.title ??
                  t.measurement.type,
                parameters: (
                  <code>{JSON.stringify(t.measurement.parameters)}</code>
                ),
                schedule: describeSchedule(t.schedule),
                'next run': formatNextRun(t.nextRunAt),
                state: t.state,
                owner: <EntityRefLink entityRef={t.owner} />,
                policies: `misfire ${t.policies.misfire}, overlap ${t.policies.overlap}`,
                version: t.version,
                created: `${time(t.createdAt)} by ${t.createdBy}`,
                updated: `${time(t.updatedAt)} by ${t.updatedBy}`,
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
          <Table<Run>
            title="Run history"
            options={{
              paging: false,
              search: false,
              padding: 'dense',
              maxBodyHeight: '60vh',
            }}
            columns={runColumns}
            data={runs.value?.items ?? []}
            isLoading={runs.loading && !runs.value}
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
