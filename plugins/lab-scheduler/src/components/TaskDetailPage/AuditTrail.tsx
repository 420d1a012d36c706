import { parseEntityRef } from '@backstage/catalog-model';
import { Table, TableColumn } from '@backstage/core-components';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import { AuditEntry } from '@lab-scheduler/plugin-lab-scheduler-common';
import { formatInstant } from '../TaskTable';

/**
 * Who did something: a user or group by its catalog title, linked; anything else (a script's static token,
 * e.g. `service:lab-scheduler-scripts`, or the dispatcher) as it is — it has no catalog entity to show.
 */
export const ActorName = ({ actor }: { actor: string }) => {
  let kind: string;
  try {
    kind = parseEntityRef(actor).kind.toLocaleLowerCase('en-US');
  } catch {
    return <>{actor}</>;
  }
  return kind === 'user' || kind === 'group' ? (
    <EntityRefLink entityRef={actor} />
  ) : (
    <>{actor}</>
  );
};

const ACTIONS: Record<AuditEntry['action'], string> = {
  create: 'created',
  update: 'changed',
  pause: 'paused',
  resume: 'resumed',
  delete: 'deleted',
  trigger: 'run now',
};

const auditColumns: TableColumn<AuditEntry>[] = [
  { title: 'When', render: a => formatInstant(a.at) },
  { title: 'Who', render: a => <ActorName actor={a.actor} /> },
  { title: 'Action', render: a => ACTIONS[a.action] ?? a.action },
  {
    title: 'Change',
    render: a => {
      if (!a.before || !a.after) return '';
      const changed = Object.keys(a.after).filter(
        k =>
          !['version', 'updatedAt', 'updatedBy'].includes(k) &&
          JSON.stringify((a.before as any)[k]) !==
            JSON.stringify((a.after as any)[k]),
      );
      return changed.join(', ');
    },
  },
];

/** A task's audit trail, newest last; also shown for a deleted task. */
export const AuditTrail = ({
  entries,
  loading,
}: {
  entries: AuditEntry[];
  loading?: boolean;
}) => (
  <Table<AuditEntry>
    title="Audit trail"
    // Not sortable: the order is the trail's, and sortable headers nest a button in a header cell.
    options={{
      paging: false,
      search: false,
      sorting: false,
      draggable: false,
      padding: 'dense',
      maxBodyHeight: 400,
    }}
    columns={auditColumns}
    data={entries}
    isLoading={loading}
  />
);
