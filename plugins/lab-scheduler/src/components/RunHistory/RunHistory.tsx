import { ReactNode } from 'react';
import { Link, Table, TableColumn } from '@backstage/core-components';
import { useRouteRef } from '@backstage/core-plugin-api';
import { Run } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Box, List, ListItem, makeStyles, Typography } from '@material-ui/core';
import { DateTime } from 'luxon';
import { useCompactLayout } from '../useCompactLayout';
import { fixedListTableOptions } from '../fixedListTable';
import { runRouteRef } from '../../routes';
import { RunOutcomeChip } from '../RunOutcomeChip';
import {
  humanDuration,
  runSummary,
  runTimings,
  summaryEntries,
} from '../runFormat';
import { RawDataButton } from './RawDataButton';
import { MeasurementTypeInfo } from '../../api';
import { useMeasurementTypes } from '../TaskFormDialog/useMeasurementTypes';

const when = (iso: string | null) =>
  iso
    ? DateTime.fromISO(iso)
        .toLocal()
        // The zone named, as every time on screen.
        .toLocaleString({ ...DateTime.DATETIME_MED, timeZoneName: 'short' })
    : '—';

/** The first few summary values, labelled with units: enough to recognise a run at a glance. */
function resultText(
  run: Run,
  fieldsOf: (type: string) => MeasurementTypeInfo['summaryFields'],
): string {
  const type = (run.result as { measurementType?: string } | null)
    ?.measurementType;
  const entries = summaryEntries(
    runSummary(run),
    type ? fieldsOf(type) : undefined,
  ).slice(0, 3);
  if (entries.length > 0)
    return entries.map(e => `${e.label} ${e.text}`).join(' · ');
  return run.error ?? '—';
}

const nowrap = { whiteSpace: 'nowrap' } as const;

const useStyles = makeStyles(theme => ({
  item: {
    display: 'block',
    padding: theme.spacing(1.5, 0),
  },
  line: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    gap: theme.spacing(1),
  },
  result: { overflowWrap: 'anywhere', marginTop: theme.spacing(0.5) },
}));

/**
 * A task's runs, newest first: outcome chip (a link to the run page), when, how late and how long, and the
 * result in words. A table on wide screens; on a phone, a list of short cards, with nothing to scroll sideways.
 */
export const RunHistory = ({
  runs,
  loading,
  emptyContent,
  statusDetail,
  actions,
}: {
  runs: Run[];
  loading?: boolean;
  emptyContent?: ReactNode;
  /** More about a run's status under its chip (e.g. why it is still waiting). */
  statusDetail?: (run: Run) => ReactNode;
  /** More buttons per run next to "Raw data" (e.g. exports). */
  actions?: (run: Run) => ReactNode;
}) => {
  const classes = useStyles();
  const runLink = useRouteRef(runRouteRef);
  const narrow = useCompactLayout();
  const measurementTypes = useMeasurementTypes();
  const fieldsOf = (type: string) =>
    measurementTypes.byType(type)?.summaryFields;

  if (narrow) {
    return (
      <Box>
        <Typography variant="h5" component="h2" gutterBottom>
          Run history
        </Typography>
        {runs.length === 0 && !loading && emptyContent}
        <List dense aria-label="Run history" disablePadding>
          {runs.map(run => {
            const t = runTimings(run);
            return (
              <ListItem key={run.id} divider className={classes.item}>
                <div className={classes.line}>
                  <RunOutcomeChip run={run} to={runLink({ runId: run.id })} />
                  <Typography variant="body2">
                    {when(run.scheduledFor)}
                  </Typography>
                </div>
                {statusDetail?.(run)}
                <Typography variant="body2" color="textSecondary">
                  Late {humanDuration(t.lateness)} · took{' '}
                  {humanDuration(t.duration)} · attempt {run.attempt}
                </Typography>
                <Typography variant="body2" className={classes.result}>
                  {resultText(run, fieldsOf)}
                </Typography>
                <div className={classes.line}>
                  <Link to={runLink({ runId: run.id })}>Open run</Link>
                  <RawDataButton run={run} />
                  {actions?.(run)}
                </div>
              </ListItem>
            );
          })}
        </List>
      </Box>
    );
  }

  const columns: TableColumn<Run>[] = [
    {
      title: 'Outcome',
      cellStyle: { minWidth: 150 },
      render: run => (
        <>
          <RunOutcomeChip run={run} to={runLink({ runId: run.id })} />
          {statusDetail?.(run)}
        </>
      ),
    },
    {
      title: 'Scheduled',
      cellStyle: nowrap,
      render: run => when(run.scheduledFor),
    },
    {
      title: 'Late',
      cellStyle: nowrap,
      render: run => humanDuration(runTimings(run).lateness),
    },
    {
      title: 'Queue wait',
      cellStyle: nowrap,
      render: run => humanDuration(runTimings(run).queueWait),
    },
    {
      title: 'Duration',
      cellStyle: nowrap,
      render: run => humanDuration(runTimings(run).duration),
    },
    { title: 'Attempt', field: 'attempt', cellStyle: nowrap },
    {
      title: 'Result',
      cellStyle: { minWidth: 260 },
      render: run => resultText(run, fieldsOf),
    },
    {
      title: '',
      cellStyle: nowrap,
      render: run => (
        <Box display="flex" gridGap={8} alignItems="center">
          <RawDataButton run={run} />
          {actions?.(run)}
        </Box>
      ),
    },
  ];
  return (
    <Table<Run>
      title="Run history"
      options={fixedListTableOptions('60vh')}
      columns={columns}
      data={runs}
      isLoading={loading}
      emptyContent={emptyContent}
    />
  );
};
