import { Breadcrumbs, Link } from '@backstage/core-components';
import { useRouteRef } from '@backstage/core-plugin-api';
import { Typography } from '@material-ui/core';
import { rootRouteRef } from '../../routes';

/** Where a task page sits: the list it came from, then the task. */
export const TaskBreadcrumbs = ({ name }: { name: string }) => {
  const rootLink = useRouteRef(rootRouteRef);
  return (
    <Breadcrumbs aria-label="Breadcrumb">
      <Link to={rootLink()}>Upcoming tests</Link>
      <Typography aria-current="page">{name}</Typography>
    </Breadcrumbs>
  );
};
