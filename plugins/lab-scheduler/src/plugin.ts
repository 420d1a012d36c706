import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { labSchedulerApiRef, LabSchedulerClient } from './api';
import { rootRouteRef } from './routes';

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
  },
});

/** The Lab Scheduler page: upcoming measurements. @public */
export const LabSchedulerPage = labSchedulerPlugin.provide(
  createRoutableExtension({
    name: 'LabSchedulerPage',
    component: () =>
      import('./components/UpcomingTasksPage').then(m => m.UpcomingTasksPage),
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
