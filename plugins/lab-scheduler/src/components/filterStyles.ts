import { makeStyles } from '@material-ui/core';

/** Styles shared by the pages' filter rows. */
export const useFilterStyles = makeStyles(theme => ({
  // The theme's grey labels on the filters measure 4.47:1 on the page's background (axe: color-contrast);
  // the primary text colour passes AA.
  readableLabels: { '& label': { color: theme.palette.text.primary } },
}));
