import { useEffect, useState } from 'react';
import {
  Content,
  ContentHeader,
  EmptyState,
  ResponseErrorPanel,
  SupportButton,
} from '@backstage/core-components';
import { configApiRef, useApi, useRouteRef } from '@backstage/core-plugin-api';
import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  taskCreatePermission,
  TaskState,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import {
  Box,
  Button,
  makeStyles,
  MenuItem,
  TextField,
  Typography,
} from '@material-ui/core';
import AddIcon from '@material-ui/icons/Add';
import { useSearchParams } from 'react-router-dom';
import useAsync from 'react-use/esm/useAsync';
import { labSchedulerApiRef } from '../../api';
import { taskRouteRef } from '../../routes';
import { TaskActions, TaskNotice, TaskNoticeSnackbar } from '../TaskActions';
import { TaskFormDialog } from '../TaskFormDialog';
import { TaskTable } from '../TaskTable';
import { useFilterStyles } from '../filterStyles';
import { anyTaskRunUnderWay, useLivePolling } from '../useRunUpdates';

const PAGE_SIZES = [10, 25, 50, 100, 200];
/** How long typing in the search field pauses before the list asks the server. */
const SEARCH_DEBOUNCE_MS = 300;

const useStyles = makeStyles(theme => ({
  // On a phone the filters take the full width, one per line, instead of overflowing sideways.
  filters: {
    [theme.breakpoints.down('xs')]: {
      '& > *': { width: '100%' },
    },
  },
}));

/**
 * The instrument filter's choices: the catalog's instruments, and the one the address filters by when the
 * catalog does not list it (still loading, or no longer there) — a select whose value is not among its
 * choices shows nothing and warns.
 */
function instrumentOptions(
  entities: Entity[] | undefined,
  selected: string,
): { ref: string; label: string }[] {
  const options = (entities ?? []).map(e => ({
    ref: stringifyEntityRef(e),
    label: e.metadata.title ?? e.metadata.name,
  }));
  if (selected && !options.some(o => o.ref === selected)) {
    let label = selected;
    try {
      label = parseEntityRef(selected).name;
    } catch {
      // Not an entity reference: shown as written (the list answers it with a field error).
    }
    options.unshift({ ref: selected, label });
  }
  return options;
}

/** "57 tasks", "1,000+ tasks": the server counts up to a cap so counting stays cheap. */
function describeTotal(total: { count: number; capped: boolean }): string {
  const n = total.count.toLocaleString('en-US');
  return `${n}${total.capped ? '+' : ''} task${
    total.count === 1 && !total.capped ? '' : 's'
  }`;
}

/**
 * Upcoming tests: tasks ordered by next run, paged by server-side cursors, filtered by instrument,
 * owner ("mine"), state and text — all kept in the URL so a filtered view can be shared or bookmarked.
 */
export const UpcomingTasksPage = () => {
  const api = useApi(labSchedulerApiRef);
  const catalogApi = useApi(catalogApiRef);
  const config = useApi(configApiRef);
  const [params, setParams] = useSearchParams();
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<TaskNotice>();
  const taskLink = useRouteRef(taskRouteRef);
  const classes = useStyles();
  const filterClasses = useFilterStyles();
  const canCreate = usePermission({ permission: taskCreatePermission }).allowed;

  const pageSize = Number(params.get('limit')) || 25;
  const cursors = (params.get('cursors') ?? '').split(',').filter(Boolean);
  const filters = {
    instrument: params.get('instrument') ?? '',
    owner: params.get('owner') ?? '',
    state: params.get('state') ?? '',
    text: params.get('q') ?? '',
  };
  const update = (changes: Record<string, string>, keepPage = false) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    if (!keepPage) next.delete('cursors');
    setParams(next, { replace: true });
  };

  // The search field types into its own state, and the address (and the request) follows once typing
  // pauses: one request per search, not one per keystroke. A changed address (back, a shared link)
  // shows in the field.
  const [searchDraft, setSearchDraft] = useState(filters.text);
  useEffect(() => setSearchDraft(filters.text), [filters.text]);
  useEffect(() => {
    if (searchDraft === filters.text) return undefined;
    const timer = setTimeout(
      () => update({ q: searchDraft }),
      SEARCH_DEBOUNCE_MS,
    );
    return () => clearTimeout(timer);
    // Only a change of the field starts the wait (update and filters are new at every render).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [searchDraft]);

  const instruments = useAsync(async () => {
    const kind =
      config.getOptionalString('labScheduler.instruments.kind') ?? 'Resource';
    const type =
      config.getOptionalString('labScheduler.instruments.type') ?? 'instrument';
    const { items } = await catalogApi.getEntities({
      filter: type ? { kind, 'spec.type': type } : { kind },
      fields: ['kind', 'metadata.name', 'metadata.namespace', 'metadata.title'],
    });
    return items;
  }, [catalogApi]);

  // "Mine" is asked of the server, which knows my groups: tasks owned by me or by one of my groups.
  const mine = filters.owner === 'me';
  // The last-run column and states follow the backend's run-update signal (polling without signals).
  const { value, loading, error, refresh } = useLivePolling(
    () =>
      api.listTasks({
        limit: pageSize,
        cursor: cursors[cursors.length - 1],
        instrument: filters.instrument || undefined,
        owner: (!mine && filters.owner) || undefined,
        mine: mine || undefined,
        state: (filters.state || undefined) as TaskState | undefined,
        text: filters.text || undefined,
        count: true,
      }),
    [
      api,
      pageSize,
      cursors.join(','),
      filters.instrument,
      filters.owner,
      filters.state,
      filters.text,
    ],
    undefined,
    anyTaskRunUnderWay,
  );
  const filtered = Object.values(filters).some(Boolean);

  return (
    <Content>
      <ContentHeader title="Upcoming tests">
        {canCreate && (
          <Button
            variant="contained"
            color="primary"
            startIcon={<AddIcon />}
            onClick={() => setCreating(true)}
          >
            Schedule a measurement
          </Button>
        )}
        <SupportButton>
          Measurement tasks on the lab's instruments, next run first.
        </SupportButton>
      </ContentHeader>
      <TaskFormDialog
        open={creating}
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
      <Box
        display="flex"
        flexWrap="wrap"
        mb={2}
        style={{ gap: 16 }}
        role="search"
        aria-label="Filter tasks"
        className={`${classes.filters} ${filterClasses.readableLabels}`}
      >
        <TextField
          label="Search"
          placeholder="Name or description"
          value={searchDraft}
          onChange={e => setSearchDraft(e.target.value)}
          variant="outlined"
          size="small"
          id="lab-scheduler-filter-text"
        />
        <TextField
          select
          label="Instrument"
          value={filters.instrument}
          onChange={e => update({ instrument: e.target.value })}
          variant="outlined"
          size="small"
          style={{ minWidth: 200 }}
          id="lab-scheduler-filter-instrument"
        >
          <MenuItem value="">All instruments</MenuItem>
          {instrumentOptions(instruments.value, filters.instrument).map(
            option => (
              <MenuItem key={option.ref} value={option.ref}>
                {option.label}
              </MenuItem>
            ),
          )}
        </TextField>
        <TextField
          select
          label="Owner"
          value={
            filters.owner === 'me' || filters.owner === ''
              ? filters.owner
              : 'other'
          }
          onChange={e =>
            update({
              owner:
                e.target.value === 'other' ? filters.owner : e.target.value,
            })
          }
          variant="outlined"
          size="small"
          style={{ minWidth: 140 }}
          id="lab-scheduler-filter-owner"
        >
          <MenuItem value="">Anyone</MenuItem>
          <MenuItem value="me">Mine and my groups’</MenuItem>
          {filters.owner && filters.owner !== 'me' && (
            <MenuItem value="other">{filters.owner}</MenuItem>
          )}
        </TextField>
        <TextField
          select
          label="State"
          value={filters.state}
          onChange={e => update({ state: e.target.value })}
          variant="outlined"
          size="small"
          style={{ minWidth: 140 }}
          id="lab-scheduler-filter-state"
        >
          <MenuItem value="">Any state</MenuItem>
          <MenuItem value="active">Active</MenuItem>
          <MenuItem value="paused">Paused</MenuItem>
          <MenuItem value="completed">Completed</MenuItem>
        </TextField>
        <TextField
          select
          label="Page size"
          value={pageSize}
          onChange={e => update({ limit: e.target.value })}
          variant="outlined"
          size="small"
          style={{ minWidth: 110 }}
          id="lab-scheduler-page-size"
        >
          {PAGE_SIZES.map(size => (
            <MenuItem key={size} value={size}>
              {size}
            </MenuItem>
          ))}
        </TextField>
      </Box>
      {error && !value && <ResponseErrorPanel error={error} />}
      {!loading &&
        value &&
        value.items.length === 0 &&
        cursors.length === 0 && (
          <EmptyState
            missing={filtered ? 'field' : 'data'}
            title={
              filtered
                ? 'No task matches these filters'
                : 'No measurements scheduled yet'
            }
            description={
              filtered
                ? 'Clear a filter to see more tasks.'
                : 'Schedule a measurement here or from an instrument’s catalog page; it shows up here, next run first.'
            }
          />
        )}
      {(loading || (value && value.items.length > 0)) && (
        <TaskTable
          tasks={value?.items ?? []}
          loading={loading && !value}
          actions={task => (
            <TaskActions task={task} onChanged={refresh} onNotice={setNotice} />
          )}
        />
      )}
      <Box
        display="flex"
        justifyContent="flex-end"
        alignItems="center"
        mt={2}
        style={{ gap: 8 }}
      >
        <Typography variant="body2" component="span" aria-live="polite">
          Page {cursors.length + 1}
          {value?.total ? ` · ${describeTotal(value.total)}` : ''}
        </Typography>
        <Button
          disabled={cursors.length === 0 || loading}
          onClick={() =>
            update({ cursors: cursors.slice(0, -1).join(',') }, true)
          }
        >
          Previous page
        </Button>
        <Button
          disabled={!value?.nextCursor || loading}
          onClick={() =>
            update(
              { cursors: [...cursors, value!.nextCursor!].join(',') },
              true,
            )
          }
        >
          Next page
        </Button>
      </Box>
    </Content>
  );
};
