import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { labSchedulerApiRef, LabSchedulerClient } from './api';
import { rootRouteRef, runRouteRef, taskRouteRef } from './routes';

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
