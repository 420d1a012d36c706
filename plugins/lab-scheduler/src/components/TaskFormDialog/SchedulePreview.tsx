import {
  TaskSchedule,
  upcomingOccurrences,
  cronSyntaxError,
  isValidTimeZone,
  describeSchedule,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Typography } from '@material-ui/core';
import { DateTime } from 'luxon';

/**
 * The next occurrences of a schedule, in the task's zone and in the viewer's local time, computed with
 * the same DST-aware maths the dispatcher uses.
 */
export const SchedulePreview = ({
  schedule,
  count = 5,
  now = Date.now(),
}: {
  schedule: TaskSchedule | undefined;
  count?: number;
  now?: number;
}) => {
  if (!schedule) return null;
  if (schedule.type === 'cron') {
    if (!isValidTimeZone(schedule.timezone)) {
      return (
        <Typography color="error" variant="body2">
          Choose a valid time zone to see the next runs.
        </Typography>
      );
    }
    const error = cronSyntaxError(schedule.expression);
    if (error)
      return (
        <Typography color="error" variant="body2">
          Cron expression {error}.
        </Typography>
      );
  }
  const zone = schedule.type === 'cron' ? schedule.timezone : 'UTC';
  const occurrences = upcomingOccurrences(schedule, now, count);
  const localZone = DateTime.local().zoneName;
  return (
    <div aria-live="polite" data-testid="schedule-preview">
      <Typography variant="subtitle2">{describeSchedule(schedule)}</Typography>
      {occurrences.length === 0 ? (
        <Typography variant="body2">
          This schedule will not run again.
        </Typography>
      ) : (
        <ol style={{ margin: '4px 0', paddingLeft: 20 }}>
          {occurrences.map(ms => {
            const inZone = DateTime.fromMillis(ms, { zone });
            const local = DateTime.fromMillis(ms).setZone(localZone);
            return (
              <li key={ms}>
                <Typography variant="body2" component="span">
                  {inZone.toFormat('ccc yyyy-LL-dd HH:mm ZZZZ')}
                  {zone !== localZone &&
                    ` — ${local.toFormat('ccc HH:mm ZZZZ')} your time`}
                </Typography>
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
};
