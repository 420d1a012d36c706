import { Content, ContentHeader, Link } from '@backstage/core-components';
import { useRouteRef } from '@backstage/core-plugin-api';
import { Alert } from '@material-ui/lab';
import { rootRouteRef } from '../../routes';

/**
 * The page of a run link that leads nowhere: a mistyped address (the API refuses an id that is not a run
 * id) or a run the history's retention has removed. Says so in words, instead of the request's error.
 */
export const RunNotFound = () => {
  const rootLink = useRouteRef(rootRouteRef);
  return (
    <Content>
      <ContentHeader title="Run not found" />
      <Alert severity="info">
        There is no run at this address. The link may be incomplete, or the run
        was removed from the history by its retention.{' '}
        <Link to={rootLink()}>Back to the upcoming tests</Link>
      </Alert>
    </Content>
  );
};
