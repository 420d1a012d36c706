import { createRouteRef, createSubRouteRef } from '@backstage/core-plugin-api';

export const rootRouteRef = createRouteRef({
  id: 'lab-scheduler',
});

/** The detail page of one task. */
export const taskRouteRef = createSubRouteRef({
  id: 'lab-scheduler/task',
  parent: rootRouteRef,
  path: '/tasks/:id',
});
