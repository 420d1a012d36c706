import { ReactNode } from 'react';
import {
  Link,
  StatusAborted,
  StatusError,
  StatusOK,
  StatusPending,
  StatusRunning,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useRouteRef } from '@backstage/core-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import {
  describeSchedule,
  Run,
  Task,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { DateTime } from 'luxon';
import { taskRouteRef } from '../../routes';

export function entityLink(ref: string): string {
  const { kind, namespace, name } = parseEntityRef(ref);
  return `/catalog/${namespace}/${kind}/${name}`;
}

/** An instant in the viewer's local time with a relative hint ("in 12 minutes"). */
export function formatNextRun(iso: string | null, now?: number): string {
  if (!iso) return '—';
  const at = DateTime.fromISO(iso).toLocal();
  const relative = at.toRelative(
    now ? { base: DateTime.fromMillis(now) } : undefined,
  );
  return `${at.toLocaleString(DateTime.DATETIME_MED)} (${relative})`;
}

/** A run's status as a coloured chip. */
export const RunStatusChip = ({ run }: { run: Pick<Run, 'status'> | null }) => {
  if (!run) return <span>never run</span>;
  const label = run.status.replace('_', ' ');
  switch (run.status) {
    case 'succeeded':
      return <StatusOK>{label}</StatusOK>;
    case 'failed':
    case 'dead_lettered':
      return <StatusError>{label}</StatusError>;
    case 'running':
      return <StatusRunning>{label}</StatusRunning>;
    case 'skipped':
    case 'cancelled':
      return <StatusAborted>{label}</StatusAborted>;
    default:
      return <StatusPending>{label}</StatusPending>;
  }
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
  const columns: TableColumn<Task>[] = [
    {
      title: 'Name',
      highlight: true,
      render: task => <Link to={taskLink({ id: task.id })}>{task.name}</Link>,
    },
    {
      title: 'Instrument',
      render: task => (
        <Link to={entityLink(task.instrumentRef)}>
          {parseEntityRef(task.instrumentRef).name}
        </Link>
      ),
    },
    { title: 'Schedule', render: task => describeSchedule(task.schedule) },
    { title: 'Next run', render: task => formatNextRun(task.nextRunAt) },
    { title: 'State', field: 'state' },
    { title: 'Last run', render: task => <RunStatusChip run={task.lastRun} /> },
    {
      title: 'Owner',
      render: task => (
        <Link to={entityLink(task.owner)}>
          {parseEntityRef(task.owner).name}
        </Link>
      ),
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
