import { TableOptions } from '@backstage/core-components';

/**
 * Table options of the plugin's fixed lists (run history, audit trail): shown in their own order, whole,
 * with no search. Not sortable or draggable: either makes each header a button, which nests the sort
 * button (axe: nested-interactive) or has no name where the column has no title (aria-command-name).
 */
export function fixedListTableOptions(
  maxBodyHeight: TableOptions['maxBodyHeight'],
): TableOptions {
  return {
    paging: false,
    search: false,
    sorting: false,
    draggable: false,
    padding: 'dense',
    maxBodyHeight,
  };
}
