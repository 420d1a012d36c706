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

/** The page of one run: its verdict, timings and plotted raw data (linked from notifications too). */
export const runRouteRef = createSubRouteRef({
  id: 'lab-scheduler/run',
  parent: rootRouteRef,
  path: '/runs/:runId',
});

/** Recent results: the latest finished runs across the tasks the user can see. */
export const resultsRouteRef = createSubRouteRef({
  id: 'lab-scheduler/results',
  parent: rootRouteRef,
  path: '/results',
});

/** The instrument calendar: upcoming runs per instrument, side by side. */
export const calendarRouteRef = createSubRouteRef({
  id: 'lab-scheduler/calendar',
  parent: rootRouteRef,
  path: '/calendar',
});
