import { Breadcrumbs, Link } from '@backstage/core-components';
import { useRouteRef } from '@backstage/core-plugin-api';
import { makeStyles, Typography } from '@material-ui/core';
import { rootRouteRef } from '../../routes';

const useStyles = makeStyles(theme => ({
  // Breadcrumbs are grey (text.secondary) by default: 4.47:1 on the page background, under AA.
  root: { color: theme.palette.text.primary },
}));

/** Where a task page sits: the list it came from, then the task. */
export const TaskBreadcrumbs = ({ name }: { name: string }) => {
  const rootLink = useRouteRef(rootRouteRef);
  const classes = useStyles();
  return (
    <Breadcrumbs aria-label="Breadcrumb" className={classes.root}>
      <Link to={rootLink()}>Upcoming tests</Link>
      <Typography color="textPrimary" aria-current="page">
        {name}
      </Typography>
    </Breadcrumbs>
  );
};
