import { Link, StatusOK, StatusPending, StatusError, StatusRunning, StatusAborted, Table, TableColumn } from '@backstage/core-components';
import { parseEntityRef } from '@backstage/catalog-model';
import {
  describeSchedule,
  Run,
  Task,
} from '@internal/plugin-lab-scheduler-common';
import { DateTime } from 'luxon';

function entityLink(ref: string): string {
  const { kind, namespace, name } = parseEntityRef(ref);
  return `/catalog/${namespace}/${kind}/${name}`;
}

/** The next run in the viewer's local time with a relative hint ("in 12 minutes"). */
export function formatNextRun(iso: string | null): string {
  if (!iso) return '—';
  const at = DateTime.fromISO(iso).toLocal();
  return `${at.toLocaleString(DateTime.DATETIME_MED)} (${at.toRelative()})`;
}

export const RunStatusChip = ({ run }: { run: Run | null }) => {
  if (!run) return <span>never run</span>;
  switch (run.status) {
    case 'succeeded':
      return <StatusOK>succeeded</StatusOK>;
    case 'failed':
    case 'dead_lettered':
      return <StatusError>{run.status.replace('_', ' ')}</StatusError>;
    case 'running':
      return <StatusRunning>running</StatusRunning>;
    case 'skipped':
    case 'cancelled':
      return <StatusAborted>{run.status}</StatusAborted>;
    default:
      return <StatusPending>{run.status}</StatusPending>;
  }
};

const columns: TableColumn<Task>[] = [
  { title: 'Name', field: 'name', highlight: true },
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
    render: task => <Link to={entityLink(task.owner)}>{parseEntityRef(task.owner).name}</Link>,
  },
];

/** A table of tasks, in the order given (the server's next-run order). */
export const TaskTable = ({
  tasks,
  loading,
  title,
}: {
  tasks: Task[];
  loading?: boolean;
  title?: string;
}) => (
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
