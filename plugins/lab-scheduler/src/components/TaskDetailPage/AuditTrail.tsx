import { parseEntityRef } from '@backstage/catalog-model';
import {
  InfoCard,
  Progress,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import { AuditEntry } from '@lab-scheduler/plugin-lab-scheduler-common';
import { List, ListItem, ListItemText } from '@material-ui/core';
import { formatInstant } from '../TaskTable';
import { useCompactLayout } from '../useCompactLayout';
import { fixedListTableOptions } from '../fixedListTable';

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

/** The fields an update changed, e.g. "schedule, measurement" (bookkeeping fields left out). */
function changedFields(a: AuditEntry): string {
  if (!a.before || !a.after) return '';
  return Object.keys(a.after)
    .filter(
      k =>
        !['version', 'updatedAt', 'updatedBy'].includes(k) &&
        JSON.stringify((a.before as any)[k]) !==
          JSON.stringify((a.after as any)[k]),
    )
    .join(', ');
}

const auditColumns: TableColumn<AuditEntry>[] = [
  { title: 'When', render: a => formatInstant(a.at) },
  { title: 'Who', render: a => <ActorName actor={a.actor} /> },
  { title: 'Action', render: a => ACTIONS[a.action] ?? a.action },
  { title: 'Change', render: changedFields },
];

/** A task's audit trail, newest last; also shown for a deleted task. */
export const AuditTrail = ({
  entries,
  loading,
}: {
  entries: AuditEntry[];
  loading?: boolean;
}) => {
  const compact = useCompactLayout();
  if (compact) {
    // One line per entry: four columns in half of a narrow window broke words mid-way.
    return (
      <InfoCard title="Audit trail">
        {loading && entries.length === 0 && <Progress />}
        <List dense aria-label="Audit trail" disablePadding>
          {entries.map((a, i) => {
            const changed = changedFields(a);
            return (
              <ListItem key={`${a.at}-${i}`} divider disableGutters>
                <ListItemText
                  primary={
                    <>
                      {ACTIONS[a.action] ?? a.action} by{' '}
                      <ActorName actor={a.actor} />
                    </>
                  }
                  secondary={`${formatInstant(a.at)}${
                    changed ? ` · ${changed}` : ''
                  }`}
                />
              </ListItem>
            );
          })}
        </List>
      </InfoCard>
    );
  }
  return (
    <Table<AuditEntry>
      title="Audit trail"
      options={fixedListTableOptions(400)}
      columns={auditColumns}
      data={entries}
      isLoading={loading}
    />
  );
};
