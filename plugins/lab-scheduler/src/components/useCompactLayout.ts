import { Theme, useMediaQuery } from '@material-ui/core';

/**
 * Whether the wide tables (tasks, run history: six to eight columns) give way to one card per row. They
 * need about 900 px of content; below the theme's `md` breakpoint (a 960 px window) Backstage's sidebar
 * leaves less than that, and their columns broke mid-word at an 800 px window, cut off on the right.
 */
export function useCompactLayout(): boolean {
  return useMediaQuery((theme: Theme) => theme.breakpoints.down('sm'));
}
