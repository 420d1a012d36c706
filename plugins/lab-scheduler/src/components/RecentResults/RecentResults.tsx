import { useState } from 'react';
import {
  EmptyState,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi, useRouteRef } from '@backstage/core-plugin-api';
import {
  FAILURE_RUN_OUTCOME_KINDS,
  FINISHED_RUN_OUTCOME_KINDS,
  RecentResult,
  RunOutcomeKind,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import {
  Box,
  Button,
  MenuItem,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  TextField,
  Typography,
} from '@material-ui/core';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import { Link } from '@backstage/core-components';
import { DateTime } from 'luxon';
import { labSchedulerApiRef } from '../../api';
import { runRouteRef, taskRouteRef } from '../../routes';
import { RunOutcomeChip } from '../RunOutcomeChip';
import { useLivePolling } from '../useRunUpdates';
import { useFilterStyles } from '../filterStyles';
import { useMeasurementTypes } from '../TaskFormDialog/useMeasurementTypes';

const OUTCOME_FILTER_LABELS: Record<string, string> = {
  qc_pass: 'QC pass',
  qc_fail: 'QC fail',
  measured: 'Measured (no QC thresholds)',
  failed: 'Failed',
  dead_lettered: 'Dead-lettered',
  skipped: 'Skipped',
  cancelled: 'Cancelled',
};

/** The filter choices: every finished run, the failures, or one outcome. */
const FILTERS: { value: string; label: string; outcomes?: RunOutcomeKind[] }[] =
  [
    { value: 'all', label: 'All finished runs' },
    {
      value: 'failures',
      label: 'Failures (QC fail, failed, dead-lettered)',
      outcomes: FAILURE_RUN_OUTCOME_KINDS,
    },
    ...FINISHED_RUN_OUTCOME_KINDS.map(kind => ({
      value: kind,
      label: OUTCOME_FILTER_LABELS[kind] ?? kind,
      outcomes: [kind],
    })),
  ];

const PAGE_SIZE = 25;

/**
 * The latest finished runs across every task the user may read, newest first, filterable by outcome:
 * where a one-time task's result stays findable after the task completed.
 */
export const RecentResults = () => {
  const api = useApi(labSchedulerApiRef);
  const runLink = useRouteRef(runRouteRef);
  const taskLink = useRouteRef(taskRouteRef);
  const filterClasses = useFilterStyles();
  const measurementTypes = useMeasurementTypes();
  const [filter, setFilter] = useState('all');
  const [older, setOlder] = useState<{
    items: RecentResult[];
    nextCursor: string | null;
  }>();
  const outcomes = FILTERS.find(f => f.value === filter)?.outcomes;
  // The first page refreshes itself; older pages are loaded on demand and kept.
  const first = useLivePolling(
    () => api.listRecentResults({ limit: PAGE_SIZE, outcomes }),
    [filter],
    15_000,
  );

  if (first.error && !first.value)
    return <ResponseErrorPanel error={first.error} />;
  if (!first.value) return <Progress />;
  const firstIds = new Set(first.value.items.map(r => r.run.id));
  const items = [
    ...first.value.items,
    ...(older?.items ?? []).filter(r => !firstIds.has(r.run.id)),
  ];
  const nextCursor = older ? older.nextCursor : first.value.nextCursor;

  return (
    <Box>
      <Box
        display="flex"
        alignItems="center"
        mb={2}
        flexWrap="wrap"
        className={filterClasses.readableLabels}
      >
        {/* A TextField select, as the task list's filters: its label names the field for assistive
            technology the way it reads on screen (axe: label-content-name-mismatch). */}
        <TextField
          select
          label="Outcome"
          value={filter}
          onChange={e => {
            setFilter(e.target.value as string);
            setOlder(undefined);
          }}
          variant="outlined"
          size="small"
          style={{ minWidth: 260 }}
          id="recent-results-outcome"
        >
          {FILTERS.map(f => (
            <MenuItem key={f.value} value={f.value}>
              {f.label}
            </MenuItem>
          ))}
        </TextField>
      </Box>
      {items.length === 0 ? (
        <EmptyState
          missing="data"
          title="No finished runs"
          description={
            filter === 'all'
              ? 'Results appear here as soon as a run of a task you can see has finished.'
              : 'No finished run has this outcome.'
          }
        />
      ) : (
        <Box style={{ overflowX: 'auto' }}>
          <Table size="small" aria-label="Recent results">
            <TableHead>
              <TableRow>
                <TableCell>Finished</TableCell>
                <TableCell>Task</TableCell>
                <TableCell>Outcome</TableCell>
                <TableCell>Instrument</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {items.map(({ run, task }) => (
                <TableRow key={run.id} data-run-id={run.id}>
                  <TableCell style={{ whiteSpace: 'nowrap' }}>
                    <span title={run.finishedAt ?? ''}>
                      {run.finishedAt
                        ? DateTime.fromISO(run.finishedAt).toRelative()
                        : '—'}
                    </span>
                  </TableCell>
                  <TableCell>
                    <Link to={taskLink({ id: task.id })}>{task.name}</Link>
                    <Typography variant="caption" display="block">
                      {measurementTypes.byType(task.measurementType)?.title ??
                        task.measurementType}
                    </Typography>
                  </TableCell>
                  <TableCell>
                    <RunOutcomeChip run={run} to={runLink({ runId: run.id })} />
                  </TableCell>
                  <TableCell>
                    <EntityRefLink entityRef={task.instrumentRef} hideIcon />
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Box>
      )}
      {nextCursor && (
        <Box mt={2}>
          <Button
            variant="outlined"
            onClick={async () => {
              const page = await api.listRecentResults({
                limit: PAGE_SIZE,
                cursor: nextCursor,
                outcomes,
              });
              setOlder({
                items: [...(older?.items ?? []), ...page.items],
                nextCursor: page.nextCursor,
              });
            }}
          >
            Older results
          </Button>
        </Box>
      )}
    </Box>
  );
};
