import { ReactNode } from 'react';
import { Link, Table, TableColumn } from '@backstage/core-components';
import { useRouteRef } from '@backstage/core-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import {
  describeSchedule,
  Run,
  Task,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { DateTime } from 'luxon';
import { useCompactLayout } from '../useCompactLayout';
import { runRouteRef, taskRouteRef } from '../../routes';
import { RunOutcomeChip } from '../RunOutcomeChip';
import { TaskCards } from './TaskCards';
import { RunWaitingReason } from '../WaitingReason';
import { TaskStateChip } from '../TaskStateChip';

export function entityLink(ref: string): string {
  const { kind, namespace, name } = parseEntityRef(ref);
  return `/catalog/${namespace}/${kind}/${name}`;
}

/** An instant in the viewer's local time, its zone named, with a relative hint ("in 12 minutes"). */
export function formatNextRun(iso: string | null, now?: number): string {
  if (!iso) return '—';
  const at = DateTime.fromISO(iso).toLocal();
  const relative = at.toRelative(
    now ? { base: DateTime.fromMillis(now) } : undefined,
  );
  return `${formatInstant(iso)} (${relative})`;
}

/** An instant in the viewer's local time with its zone (e.g. "Dec 1, 2026, 9:00 AM GMT+1"). */
export function formatInstant(iso: string | null): string {
  if (!iso) return '—';
  return DateTime.fromISO(iso)
    .toLocal()
    .toLocaleString({ ...DateTime.DATETIME_MED, timeZoneName: 'short' });
}

/** A run's outcome as a chip (colour, icon and text) linking to the run's page. */
export const RunStatusChip = ({ run }: { run: Run | null }) => {
  const runLink = useRouteRef(runRouteRef);
  return (
    <RunOutcomeChip
      run={run}
      to={run ? runLink({ runId: run.id }) : undefined}
    />
  );
};

/** A table of tasks, in the order given (the server's next-run order). */
export const TaskTable = ({
  tasks,
  loading,
  title,
  actions,
}: {
  tasks: Task[];
  loading?: boolean;
  title?: string;
  actions?: (task: Task) => ReactNode;
}) => {
  const taskLink = useRouteRef(taskRouteRef);
  // A phone or a narrow window gets one card per task: eight columns would not fit.
  const narrow = useCompactLayout();
  if (narrow) {
    return <TaskCards tasks={tasks} loading={loading} actions={actions} />;
  }
  const columns: TableColumn<Task>[] = [
    {
      title: 'Name',
      highlight: true,
      render: task => <Link to={taskLink({ id: task.id })}>{task.name}</Link>,
    },
    {
      title: 'Instrument',
      render: task => <EntityRefLink entityRef={task.instrumentRef} hideIcon />,
    },
    { title: 'Schedule', render: task => describeSchedule(task.schedule) },
    { title: 'Next run', render: task => formatNextRun(task.nextRunAt) },
    { title: 'State', render: task => <TaskStateChip task={task} /> },
    {
      title: 'Last run',
      render: task => (
        <>
          <RunStatusChip run={task.lastRun} />
          <RunWaitingReason run={task.lastRun} />
        </>
      ),
    },
    {
      title: 'Owner',
      render: task => <EntityRefLink entityRef={task.owner} hideIcon />,
    },
    ...(actions
      ? [{ title: 'Actions', render: (task: Task) => actions(task) }]
      : []),
  ];
  return (
    <Table<Task>
      title={title}
      options={{
        paging: false,
        search: false,
        sorting: false,
        toolbar: Boolean(title),
        padding: 'dense',
        maxBodyHeight: '65vh',
      }}
      isLoading={loading}
      columns={columns}
      data={tasks}
    />
  );
};
