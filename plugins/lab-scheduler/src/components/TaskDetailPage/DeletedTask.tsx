import { Content, ContentHeader } from '@backstage/core-components';
import { AuditEntry } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Box } from '@material-ui/core';
import { Alert } from '@material-ui/lab';
import { ActorName, AuditTrail } from './AuditTrail';
import { TaskBreadcrumbs } from './TaskBreadcrumbs';
import { formatInstant } from '../TaskTable';

/**
 * The page of a deleted task: what it was and who deleted it when, from its audit trail (kept after the
 * delete), instead of a bare 404.
 */
export const DeletedTask = ({
  audit,
  loading,
}: {
  audit: AuditEntry[] | undefined;
  loading: boolean;
}) => {
  const deletion = audit?.find(a => a.action === 'delete');
  const name = deletion?.before?.name ?? 'Deleted task';
  return (
    <Content>
      <TaskBreadcrumbs name={name} />
      <ContentHeader title={name} />
      <Box mb={2}>
        <Alert severity="info">
          {deletion ? (
            <>
              This task was deleted by <ActorName actor={deletion.actor} /> on{' '}
              {formatInstant(deletion.at)}. It will not run again; its audit
              trail is kept.
            </>
          ) : (
            'This task does not exist, or it was deleted and its audit trail is not yours to read.'
          )}
        </Alert>
      </Box>
      {(loading || (audit && audit.length > 0)) && (
        <AuditTrail entries={audit ?? []} loading={loading} />
      )}
    </Content>
  );
};
