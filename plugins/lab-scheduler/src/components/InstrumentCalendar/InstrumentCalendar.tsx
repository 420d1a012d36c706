import { useMemo, useState } from 'react';
import { Link, Progress, ResponseErrorPanel } from '@backstage/core-components';
import { configApiRef, useApi, useRouteRef } from '@backstage/core-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import type { CalendarEntry } from '@lab-scheduler/plugin-lab-scheduler-common';
import {
  Box,
  Button,
  ButtonGroup,
  makeStyles,
  MenuItem,
  TextField,
  Typography,
  useMediaQuery,
  useTheme,
} from '@material-ui/core';
import { Alert } from '@material-ui/lab';
import { DateTime } from 'luxon';
import { useSearchParams } from 'react-router-dom';
import useAsync from 'react-use/esm/useAsync';
import { labSchedulerApiRef } from '../../api';
import { taskRouteRef } from '../../routes';
import {
  calendarWindow,
  CalendarView,
  LaidOutEntry,
  layoutLanes,
  PlacedEntry,
  placeEntries,
} from './calendarLayout';

const HOUR_PX = 36;
const DAY_PX = 24 * HOUR_PX;
/** Short runs still get a block one can see and click. */
const MIN_BLOCK_PX = 16;
/** Space between side-by-side blocks of overlapping runs, and at the column's edges: 2 × this. */
const BLOCK_GAP_PX = 1;

const useStyles = makeStyles(theme => ({
  scroller: {
    overflow: 'auto',
    maxHeight: '70vh',
    border: `1px solid ${theme.palette.divider}`,
  },
  grid: { display: 'flex', minWidth: 'min-content' },
  gutter: { width: 48, flexShrink: 0, position: 'relative' },
  hourLabel: {
    position: 'absolute',
    right: 4,
    fontSize: 11,
    color: theme.palette.text.primary,
  },
  day: {
    flex: 1,
    minWidth: 120,
    borderLeft: `1px solid ${theme.palette.divider}`,
  },
  dayHeader: {
    position: 'sticky',
    top: 0,
    zIndex: 2,
    background: theme.palette.background.paper,
    borderBottom: `1px solid ${theme.palette.divider}`,
    padding: theme.spacing(0.5),
    textAlign: 'center',
    height: 56,
  },
  lanes: { display: 'flex', position: 'relative', height: DAY_PX },
  lane: {
    flex: 1,
    position: 'relative',
    minWidth: 0,
    borderLeft: `1px dotted ${theme.palette.divider}`,
    backgroundImage: `repeating-linear-gradient(to bottom, transparent 0, transparent ${
      HOUR_PX - 1
    }px, ${theme.palette.divider} ${HOUR_PX - 1}px, ${
      theme.palette.divider
    } ${HOUR_PX}px)`,
  },
  block: {
    position: 'absolute',
    boxSizing: 'border-box',
    overflow: 'hidden',
    borderRadius: 3,
    padding: '0 3px',
    fontSize: 11,
    lineHeight: '14px',
    textDecoration: 'none',
    background: theme.palette.primary.dark,
    color: theme.palette.primary.contrastText,
    border: `1px solid ${theme.palette.primary.dark}`,
    // Above its side-by-side neighbours, so that the whole focus ring shows.
    '&:focus': {
      outline: `2px solid ${theme.palette.secondary.main}`,
      zIndex: 1,
    },
  },
  paused: {
    background: theme.palette.background.paper,
    color: theme.palette.text.primary,
    border: `1px dashed ${theme.palette.text.primary}`,
  },
  agendaDay: { marginTop: theme.spacing(2) },
  agendaList: { margin: 0, paddingLeft: theme.spacing(2) },
}));

export interface InstrumentCalendarProps {
  /** Only this instrument (e.g. on its catalog page); all instruments side by side when absent. */
  instrumentRef?: string;
  /** The first view; day or week. */
  initialView?: CalendarView;
}

function instrumentName(ref: string): string {
  return parseEntityRef(ref).name;
}

/** Starts with the block's visible text (WCAG 2.5.3), then the day, the times with their zone, the instrument. */
function blockLabel(placed: PlacedEntry, title: string): string {
  const { entry, start, end } = placed;
  return `${start.toFormat('HH:mm')} ${entry.taskName}${
    entry.taskState === 'paused' ? ' (paused)' : ''
  }, ${start.toFormat('ccc d LLL HH:mm')}–${end.toFormat(
    'HH:mm ZZZZ',
  )} on ${title}`;
}

/**
 * Upcoming runs per instrument as a day or week timeline in the viewer's time zone, from `GET /calendar`
 * (the server computes the occurrences with the dispatcher's maths and filters by read permission). Each
 * run is a link to its task; paused tasks are drawn dashed. On a phone, a list by day instead.
 */
export const InstrumentCalendar = ({
  instrumentRef,
  initialView = 'week',
}: InstrumentCalendarProps) => {
  const classes = useStyles();
  const theme = useTheme();
  const narrow = useMediaQuery(theme.breakpoints.down('xs'));
  const api = useApi(labSchedulerApiRef);
  const catalogApi = useApi(catalogApiRef);
  const config = useApi(configApiRef);
  const taskLink = useRouteRef(taskRouteRef);
  const zone = DateTime.local().zoneName;
  // The shown day and view live in the URL (`?date=2027-03-28&view=week`), so a view can be shared.
  const [params, setParams] = useSearchParams();
  const dateParam = DateTime.fromISO(params.get('date') ?? '');
  const anchor = dateParam.isValid
    ? dateParam.startOf('day')
    : DateTime.local().startOf('day');
  const viewParam = params.get('view');
  const view: CalendarView =
    viewParam === 'day' || viewParam === 'week' ? viewParam : initialView;
  const show = (next: { date?: DateTime; view?: CalendarView }) =>
    setParams(
      current => {
        const updated = new URLSearchParams(current);
        updated.set('date', (next.date ?? anchor).toISODate()!);
        updated.set('view', next.view ?? view);
        return updated;
      },
      { replace: true },
    );
  const [chosen, setChosen] = useState<string>('');
  const instrument = instrumentRef ?? (chosen || undefined);
  // Keyed by the date, not the DateTime object, which is new on every render.
  const anchorDate = anchor.toISODate()!;
  const { from, to, days } = useMemo(
    () => calendarWindow(DateTime.fromISO(anchorDate), view),
    [anchorDate, view],
  );

  const kind =
    config.getOptionalString('labScheduler.instruments.kind') ?? 'Resource';
  const type =
    config.getOptionalString('labScheduler.instruments.type') ?? 'instrument';
  const instruments = useAsync(async () => {
    const filter: Record<string, string> = { kind };
    if (type) filter['spec.type'] = type;
    const { items } = await catalogApi.getEntities({ filter });
    return items;
  }, [catalogApi, kind, type]);
  const titles = useMemo(() => {
    const map = new Map<string, string>();
    for (const e of instruments.value ?? [])
      map.set(stringifyEntityRef(e), e.metadata.title ?? e.metadata.name);
    return map;
  }, [instruments.value]);
  const titleOf = (ref: string) => titles.get(ref) ?? instrumentName(ref);

  const calendar = useAsync(
    () =>
      api.getCalendar({
        from: from.toUTC().toISO()!,
        to: to.toUTC().toISO()!,
        instrument,
      }),
    [api, from, to, instrument],
  );
  const entries: CalendarEntry[] = useMemo(
    () => calendar.value?.items ?? [],
    [calendar.value],
  );

  // Lanes: the one instrument, or every instrument of the catalog and any other that has runs.
  const lanes = useMemo(() => {
    if (instrument) return [instrument];
    const refs = new Set<string>(titles.keys());
    for (const e of entries) refs.add(e.instrumentRef);
    return [...refs].sort();
  }, [instrument, titles, entries]);

  const step = (direction: number) =>
    show({
      date: anchor.plus(
        view === 'day' ? { days: direction } : { weeks: direction },
      ),
    });

  const heading =
    view === 'day'
      ? from.toFormat('cccc d LLLL yyyy')
      : `${from.toFormat('d LLL')} – ${to
          .minus({ days: 1 })
          .toFormat('d LLL yyyy')}`;

  // Runs that overlap as drawn share the column side by side (lanes from `layoutLanes`).
  const block = (placed: LaidOutEntry) => (
    <Link
      key={`${placed.entry.taskId}-${placed.entry.start}`}
      to={taskLink({ id: placed.entry.taskId })}
      className={`${classes.block} ${
        placed.entry.taskState === 'paused' ? classes.paused : ''
      }`}
      style={{
        top: placed.top * DAY_PX,
        height: Math.max(placed.height * DAY_PX, MIN_BLOCK_PX),
        left: `calc(${placed.left * 100}% + ${BLOCK_GAP_PX}px)`,
        width: `calc(${placed.width * 100}% - ${2 * BLOCK_GAP_PX}px)`,
      }}
      aria-label={blockLabel(placed, titleOf(placed.entry.instrumentRef))}
      // Side by side, a block may be too narrow for its text: the pointer's tooltip says what it is.
      title={blockLabel(placed, titleOf(placed.entry.instrumentRef))}
      data-testid="calendar-entry"
      data-start={placed.entry.start}
    >
      {placed.start.toFormat('HH:mm')} {placed.entry.taskName}
      {placed.entry.taskState === 'paused' && ' (paused)'}
    </Link>
  );

  const timeline = (
    <div
      className={classes.scroller}
      // Focusable so that keyboard users can scroll it (axe: scrollable-region-focusable): a scrolling
      // region is meant to be a tab stop, which this lint rule cannot tell from plain content.
      // eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex
      tabIndex={0}
      role="region"
      aria-label="Calendar, scrollable"
    >
      <div className={classes.grid}>
        <div className={classes.gutter} aria-hidden="true">
          <div style={{ height: 56 }} />
          <div style={{ position: 'relative', height: DAY_PX }}>
            {Array.from({ length: 24 }, (_, h) => (
              <span
                key={h}
                className={classes.hourLabel}
                style={{ top: h * HOUR_PX }}
              >
                {String(h).padStart(2, '0')}:00
              </span>
            ))}
          </div>
        </div>
        {days.map(day => {
          const placed = placeEntries(entries, day, zone);
          return (
            <section
              key={day.toISODate()}
              className={classes.day}
              aria-label={day.toFormat('cccc d LLLL')}
            >
              <div className={classes.dayHeader}>
                <Typography variant="subtitle2" component="h3">
                  {day.toFormat('ccc d LLL')}
                </Typography>
                {lanes.length > 1 && (
                  <Box display="flex" aria-hidden="true">
                    {lanes.map(ref => (
                      <Typography
                        key={ref}
                        variant="caption"
                        noWrap
                        style={{ flex: 1, minWidth: 0 }}
                        title={titleOf(ref)}
                      >
                        {titleOf(ref)}
                      </Typography>
                    ))}
                  </Box>
                )}
              </div>
              <div className={classes.lanes}>
                {lanes.map(ref => (
                  <div
                    key={ref}
                    className={classes.lane}
                    data-testid="calendar-lane"
                    data-instrument={ref}
                  >
                    {layoutLanes(
                      placed.filter(p => p.entry.instrumentRef === ref),
                      MIN_BLOCK_PX / DAY_PX,
                    ).map(block)}
                  </div>
                ))}
              </div>
            </section>
          );
        })}
      </div>
    </div>
  );

  const agenda = (
    <div>
      {days.map(day => {
        const placed = placeEntries(entries, day, zone);
        if (placed.length === 0) return null;
        return (
          <section key={day.toISODate()} className={classes.agendaDay}>
            <Typography variant="subtitle2" component="h3">
              {day.toFormat('cccc d LLLL')}
            </Typography>
            <ul className={classes.agendaList}>
              {placed.map(p => (
                <li key={`${p.entry.taskId}-${p.entry.start}`}>
                  <Link
                    to={taskLink({ id: p.entry.taskId })}
                    data-testid="calendar-entry"
                    data-start={p.entry.start}
                  >
                    {p.start.toFormat('HH:mm')}–{p.end.toFormat('HH:mm')}{' '}
                    {p.entry.taskName}
                  </Link>{' '}
                  on {titleOf(p.entry.instrumentRef)}
                  {p.entry.taskState === 'paused' && ' (paused)'}
                </li>
              ))}
            </ul>
          </section>
        );
      })}
    </div>
  );

  return (
    <div data-testid="instrument-calendar">
      <Box
        display="flex"
        flexWrap="wrap"
        alignItems="center"
        style={{ gap: 8 }}
        mb={1}
      >
        <ButtonGroup size="small" aria-label="Move in time">
          <Button onClick={() => step(-1)}>
            Previous {view === 'day' ? 'day' : 'week'}
          </Button>
          <Button onClick={() => show({ date: DateTime.local() })}>
            Today
          </Button>
          <Button onClick={() => step(1)}>
            Next {view === 'day' ? 'day' : 'week'}
          </Button>
        </ButtonGroup>
        <ButtonGroup size="small" aria-label="View">
          <Button
            aria-pressed={view === 'day'}
            variant={view === 'day' ? 'contained' : 'outlined'}
            onClick={() => show({ view: 'day' })}
          >
            Day
          </Button>
          <Button
            aria-pressed={view === 'week'}
            variant={view === 'week' ? 'contained' : 'outlined'}
            onClick={() => show({ view: 'week' })}
          >
            Week
          </Button>
        </ButtonGroup>
        {!instrumentRef && (
          <TextField
            select
            size="small"
            variant="outlined"
            label="Instrument"
            id="lab-scheduler-calendar-instrument"
            value={chosen}
            onChange={e => setChosen(e.target.value)}
            // The theme's secondary text colour is below 4.5:1 on the page background.
            InputLabelProps={{ style: { color: theme.palette.text.primary } }}
            style={{ minWidth: 200 }}
          >
            <MenuItem value="">All instruments</MenuItem>
            {[...titles.entries()].map(([ref, title]) => (
              <MenuItem key={ref} value={ref}>
                {title}
              </MenuItem>
            ))}
          </TextField>
        )}
      </Box>
      <Typography variant="h6" component="h2">
        {heading}
      </Typography>
      <Typography variant="body2" paragraph>
        Times in {zone} (your time zone). Each run is drawn for its measurement
        type’s expected duration; dashed runs belong to paused tasks.
      </Typography>
      {calendar.error && <ResponseErrorPanel error={calendar.error} />}
      {calendar.loading && !calendar.value && <Progress />}
      {calendar.value?.truncated && (
        <Alert severity="info">
          Only the first {entries.length} runs of this period are shown.
        </Alert>
      )}
      {calendar.value && entries.length === 0 && (
        <Typography>No runs planned in this period.</Typography>
      )}
      {calendar.value && (narrow ? agenda : timeline)}
    </div>
  );
};
