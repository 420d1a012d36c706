import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { labSchedulerApiRef, LabSchedulerClient } from './api';
import {
  calendarRouteRef,
  rootRouteRef,
  runRouteRef,
  taskRouteRef,
} from './routes';

/** The Lab Scheduler frontend plugin (legacy frontend system). @public */
export const labSchedulerPlugin = createPlugin({
  id: 'lab-scheduler',
  apis: [
    createApiFactory({
      api: labSchedulerApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new LabSchedulerClient({ discoveryApi, fetchApi }),
    }),
  ],
  routes: {
    root: rootRouteRef,
    task: taskRouteRef,
    run: runRouteRef,
    calendar: calendarRouteRef,
  },
});

/** The Lab Scheduler page: upcoming measurements and task details. @public */
export const LabSchedulerPage = labSchedulerPlugin.provide(
  createRoutableExtension({
    name: 'LabSchedulerPage',
    component: () =>
      import('./components/LabSchedulerPage').then(m => m.LabSchedulerPage),
    mountPoint: rootRouteRef,
  }),
);

/** Card for an instrument's catalog page: the next runs on it. @public */
export const EntityLabSchedulerCard = labSchedulerPlugin.provide(
  createComponentExtension({
    name: 'EntityLabSchedulerCard',
    component: {
      lazy: () =>
        import('./components/EntityLabSchedulerCard').then(
          m => m.EntityLabSchedulerCard,
        ),
    },
  }),
);

/** Tab content for an instrument's catalog page: the calendar of its upcoming runs. @public */
export const EntityInstrumentCalendarContent = labSchedulerPlugin.provide(
  createComponentExtension({
    name: 'EntityInstrumentCalendarContent',
    component: {
      lazy: () =>
        import('./components/InstrumentCalendar').then(
          m => m.EntityInstrumentCalendarContent,
        ),
    },
  }),
);
