import { useEffect, useState } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import {
  ClashReport,
  scheduleSchema,
  TaskSchedule,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Typography } from '@material-ui/core';
import { Alert, AlertTitle } from '@material-ui/lab';
import { DateTime } from 'luxon';
import { labSchedulerApiRef } from '../../api';

export interface ClashWarningsProps {
  schedule: TaskSchedule | undefined;
  instrumentRef: string;
  measurementType: string;
  /** The task being edited: its own runs are not clashes. */
  taskId?: string;
  /** How many of the next runs to check: those of the preview next to it. */
  count?: number;
}

/** Waits this long after the last keystroke before asking the server. */
const DEBOUNCE_MS = 400;

/** "2 min", "1 h 30 min", "45 s". */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

const local = (iso: string) => DateTime.fromISO(iso).toLocal();

/**
 * Which of the draft's next runs overlap other runs on its instrument when the instrument is full (its
 * capacity), and by how much — computed by the server (`POST /calendar/clashes`), which shows tasks the
 * user may not read only as "another team's run".
 */
export const ClashWarnings = ({
  schedule,
  instrumentRef,
  measurementType,
  taskId,
  count = 5,
}: ClashWarningsProps) => {
  const api = useApi(labSchedulerApiRef);
  const [report, setReport] = useState<ClashReport | undefined>();
  const key = JSON.stringify([
    schedule,
    instrumentRef,
    measurementType,
    taskId,
    count,
  ]);

  useEffect(() => {
    setReport(undefined);
    // A draft the server would refuse (a cron half typed, an unknown zone) is the form's to report: sent,
    // it would be a 400 per pause in typing.
    if (
      !schedule ||
      !instrumentRef ||
      !measurementType ||
      !scheduleSchema.safeParse(schedule).success
    )
      return undefined;
    let cancelled = false;
    const timer = setTimeout(() => {
      // Through a promise from the start, so that a throwing client counts as a failed check.
      Promise.resolve()
        .then(() =>
          api.checkClashes({
            schedule,
            instrumentRef,
            measurementType,
            taskId,
            count,
          }),
        )
        .then(
          answer => !cancelled && setReport(answer),
          // An incomplete draft (bad cron, no zone yet) is the form's to report, not this panel's.
          () => !cancelled && setReport(undefined),
        );
    }, DEBOUNCE_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
    // `key` stands for the inputs: the schedule object is rebuilt on every render of the form.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, key]);

  if (!report) return null;
  const name = parseEntityRef(report.instrumentRef).name;
  const capacityText =
    report.capacity === null
      ? 'no limit on runs at once'
      : `${report.capacity} run${report.capacity === 1 ? '' : 's'} at a time`;
  const clashing = report.occurrences.filter(o => o.overCapacityMs > 0);
  if (clashing.length === 0) {
    return (
      <div aria-live="polite" data-testid="clash-warnings">
        <Typography variant="body2">
          No clash with other runs on {name} ({capacityText}).
        </Typography>
      </div>
    );
  }
  return (
    <div aria-live="polite" data-testid="clash-warnings">
      <Alert severity="warning">
        <AlertTitle>
          {clashing.length} of the next {report.occurrences.length} runs clash
          on {name} ({capacityText})
        </AlertTitle>
        <ul style={{ margin: 0, paddingLeft: 20 }}>
          {clashing.map(occurrence => (
            <li key={occurrence.start}>
              {local(occurrence.start).toFormat('ccc d LLL HH:mm ZZZZ')}: the
              instrument is full for {formatDuration(occurrence.overCapacityMs)}{' '}
              — overlaps{' '}
              {occurrence.overlaps
                .map(
                  o =>
                    `${
                      o.task ? `“${o.task.name}”` : 'a run of another team'
                    } (${local(o.start).toFormat('HH:mm')}–${local(
                      o.end,
                    ).toFormat('HH:mm')}, by ${formatDuration(o.overlapMs)})`,
                )
                .join(', ')}
            </li>
          ))}
        </ul>
      </Alert>
    </div>
  );
};
