import { ReactNode } from 'react';
import {
  Content,
  ContentHeader,
  InfoCard,
  Link,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi, useRouteRef } from '@backstage/core-plugin-api';
import {
  Run,
  runOutcome,
  Task,
  SummaryFieldDescriptor,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import {
  Grid,
  makeStyles,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  Typography,
} from '@material-ui/core';
import { DateTime } from 'luxon';
import { useParams } from 'react-router-dom';
import useAsync from 'react-use/esm/useAsync';
import { labSchedulerApiRef } from '../../api';
import { taskRouteRef } from '../../routes';
import { RawDataPlot, RawMeasurementDocument } from '../plots';
import { RawDataButton } from '../RunHistory';
import { RunOutcomeChip } from '../RunOutcomeChip';
import { RunNotFound } from './RunNotFound';
import { RunExportButtons } from '../ExportButtons';
import {
  formatValue,
  humanDuration,
  runSummary,
  runTimings,
  summaryEntries,
  summaryField,
} from '../runFormat';
import { usePolling } from '../usePolling';
import { useMeasurementTypes } from '../TaskFormDialog/useMeasurementTypes';

const useStyles = makeStyles(theme => ({
  values: {
    display: 'grid',
    gridTemplateColumns: 'minmax(8em, max-content) minmax(0, 1fr)',
    columnGap: theme.spacing(2),
    rowGap: theme.spacing(0.5),
    margin: 0,
    '& dt': { color: theme.palette.text.secondary },
    '& dd': { margin: 0, overflowWrap: 'anywhere' },
  },
  error: { whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' },
  checks: { '& td, & th': { padding: theme.spacing(0.75, 1) } },
}));

/** Labelled values as a description list: label left, value right, wrapping inside the value only. */
const Values = ({ entries }: { entries: [string, ReactNode][] }) => {
  const classes = useStyles();
  return (
    <dl className={classes.values}>
      {entries.map(([label, value]) => (
        <div key={label} style={{ display: 'contents' }}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
};

const when = (iso: string | null) =>
  iso
    ? DateTime.fromISO(iso)
        .toLocal()
        // The zone named, as every time on screen (a run is read beside times in other zones).
        .toLocaleString({
          ...DateTime.DATETIME_MED_WITH_SECONDS,
          timeZoneName: 'short',
        })
    : '—';

interface QcCheck {
  name: string;
  value: number;
  limit: number;
  comparison: '<=' | '>=' | 'within';
  pass: boolean;
}

// A "within" check stores its tolerance as the limit; the expected value is the task's parameter.
const EXPECTED_PARAMETER: Record<string, string> = {
  peakWavelengthNm: 'expectedPeakNm',
  mean: 'expectedMass',
};

function thresholdText(
  check: QcCheck,
  unit: string | undefined,
  qc: Record<string, unknown>,
): string {
  if (check.comparison === '<=') return `≤ ${formatValue(check.limit, unit)}`;
  if (check.comparison === '>=') return `≥ ${formatValue(check.limit, unit)}`;
  const expected = qc[EXPECTED_PARAMETER[check.name]];
  return typeof expected === 'number'
    ? `${formatValue(expected, unit)} ± ${formatValue(check.limit, unit)}`
    : `within ± ${formatValue(check.limit, unit)}`;
}

const QcChecks = ({
  run,
  qcParameters,
  fields,
}: {
  run: Run;
  qcParameters: Record<string, unknown>;
  /** The run's measurement type's summary fields (labels and units of the checked values). */
  fields?: Record<string, SummaryFieldDescriptor> | null;
}) => {
  const classes = useStyles();
  const qc = (run.result as any)?.qc as
    | { status: string; checks: QcCheck[] }
    | undefined;
  if (!qc) return <Typography variant="body2">No QC verdict.</Typography>;
  if (qc.checks.length === 0)
    return (
      <Typography variant="body2">
        Not checked: the task sets no QC thresholds.
      </Typography>
    );
  const summary = runSummary(run);
  return (
    <Table size="small" className={classes.checks} aria-label="QC checks">
      <TableHead>
        <TableRow>
          <TableCell>Check</TableCell>
          <TableCell>Measured</TableCell>
          <TableCell>Threshold</TableCell>
          <TableCell>Verdict</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {qc.checks.map((check, i) => {
          const field = summaryField(check.name, summary, fields);
          return (
            <TableRow key={i}>
              <TableCell>{field.label}</TableCell>
              <TableCell>{formatValue(check.value, field.unit)}</TableCell>
              <TableCell>
                {thresholdText(check, field.unit, qcParameters)}
              </TableCell>
              <TableCell>
                <strong>{check.pass ? 'pass' : 'FAIL'}</strong>
              </TableCell>
            </TableRow>
          );
        })}
      </TableBody>
    </Table>
  );
};

const RawData = ({ run, task }: { run: Run; task?: Task }) => {
  const api = useApi(labSchedulerApiRef);
  const hasRaw = Boolean((run.result as any)?.rawData);
  const raw = useAsync(async () => {
    if (!hasRaw) return undefined;
    const blob = await api.getRawData(run.id);
    return JSON.parse(await blob.text()) as RawMeasurementDocument;
  }, [api, run.id, hasRaw]);
  if (!hasRaw)
    return (
      <Typography variant="body2">This run stored no raw data.</Typography>
    );
  if (raw.loading) return <Progress />;
  if (raw.error) return <ResponseErrorPanel error={raw.error} />;
  if (!raw.value) return null;
  return (
    <RawDataPlot
      raw={raw.value}
      summary={runSummary(run)}
      qc={(task?.measurement.parameters.qc ?? {}) as Record<string, unknown>}
    />
  );
};

/**
 * One run: its verdict, the summary as labelled values with units, the QC checks against their thresholds,
 * the timings in words, and the raw data plotted for its measurement type. Refreshes until it finishes.
 */
export const RunPage = () => {
  const { runId } = useParams();
  const api = useApi(labSchedulerApiRef);
  const taskLink = useRouteRef(taskRouteRef);
  const classes = useStyles();
  const run = usePolling(() => api.getRun(runId!), [api, runId]);
  const measurementTypes = useMeasurementTypes();
  const taskId = run.value?.taskId;
  // The run stays readable when its task is gone: the task only adds names and QC parameters.
  const task = useAsync(
    async () => (taskId ? api.getTask(taskId) : undefined),
    [api, taskId],
  );

  // 404: no such run (any more); 400: not a run id at all. Both are an address that leads nowhere.
  const status = (run.error as { statusCode?: number } | undefined)?.statusCode;
  if (status === 404 || status === 400) return <RunNotFound />;
  if (run.error && !run.value)
    return (
      <Content>
        <ResponseErrorPanel error={run.error} />
      </Content>
    );
  if (!run.value) return <Progress />;
  const r = run.value;
  const t = task.value;
  const outcome = runOutcome(r);
  const timings = runTimings(r);
  const result = (r.result ?? {}) as Record<string, any>;
  const measurementType: string | undefined =
    result.measurementType ?? t?.measurement.type;
  const typeInfo = measurementType
    ? measurementTypes.byType(measurementType)
    : undefined;
  const fields = typeInfo?.summaryFields;
  const summary = summaryEntries(runSummary(r), fields);
  return (
    <Content>
      <ContentHeader title={t ? `Run of ${t.name}` : 'Run'}>
        <Link to={taskLink({ id: r.taskId })}>Task page</Link>
      </ContentHeader>
      <Grid container spacing={2}>
        <Grid item xs={12} md={6}>
          <InfoCard title="Outcome">
            <Values
              entries={[
                ['Outcome', <RunOutcomeChip run={r} />],
                ['Measurement', typeInfo?.title ?? measurementType ?? '—'],
                ...(outcome.kind === 'qc_fail'
                  ? [
                      [
                        'Failed checks',
                        outcome.failedChecks
                          .map(c => summaryField(c, undefined, fields).label)
                          .join(', ') || '—',
                      ] as [string, ReactNode],
                    ]
                  : []),
                ...(r.error
                  ? [
                      [
                        'Error',
                        <span className={classes.error}>{r.error}</span>,
                      ] as [string, ReactNode],
                    ]
                  : []),
              ]}
            />
          </InfoCard>
        </Grid>
        <Grid item xs={12} md={6}>
          <InfoCard title="Timings">
            <Values
              entries={[
                ['Scheduled for', when(r.scheduledFor)],
                ['Started', when(r.startedAt)],
                ['Finished', when(r.finishedAt)],
                ['Lateness', humanDuration(timings.lateness)],
                ['Queue wait', humanDuration(timings.queueWait)],
                ['Duration', humanDuration(timings.duration)],
                ['Attempts', r.attempt],
              ]}
            />
          </InfoCard>
        </Grid>
        <Grid item xs={12} md={6}>
          <InfoCard title="Summary">
            {summary.length > 0 ? (
              <Values entries={summary.map(e => [e.label, e.text])} />
            ) : (
              <Typography variant="body2">No summary.</Typography>
            )}
          </InfoCard>
        </Grid>
        <Grid item xs={12} md={6}>
          <InfoCard title="QC checks">
            <QcChecks
              run={r}
              qcParameters={
                (t?.measurement.parameters.qc ?? {}) as Record<string, unknown>
              }
              fields={fields}
            />
          </InfoCard>
        </Grid>
        <Grid item xs={12}>
          <InfoCard
            title="Raw data"
            action={
              <span style={{ display: 'flex', gap: 8, flexWrap: 'wrap' }}>
                <RunExportButtons run={r} />
                <RawDataButton run={r} />
              </span>
            }
          >
            <RawData run={r} task={t} />
          </InfoCard>
        </Grid>
      </Grid>
    </Content>
  );
};
