/**
 * The Lab Scheduler for Backstage's new frontend system.
 *
 * @packageDocumentation
 */
import {
  ApiBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import {
  compatWrapper,
  convertLegacyRouteRefs,
} from '@backstage/core-compat-api';
import ScheduleIcon from '@material-ui/icons/Schedule';
import { labSchedulerApiRef, LabSchedulerClient } from './api';
import {
  calendarRouteRef,
  rootRouteRef,
  runRouteRef,
  taskRouteRef,
} from './routes';

/** The API client. @alpha */
export const labSchedulerApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: labSchedulerApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new LabSchedulerClient({ discoveryApi, fetchApi }),
    }),
});

/** The Lab Scheduler page at /lab-scheduler, with its nav item. @alpha */
export const labSchedulerPage = PageBlueprint.make({
  params: {
    path: '/lab-scheduler',
    title: 'Lab Scheduler',
    icon: <ScheduleIcon />,
    routeRef: convertLegacyRouteRefs({ root: rootRouteRef }).root,
    loader: () =>
      import('./components/LabSchedulerPage').then(m =>
        compatWrapper(<m.LabSchedulerPage />),
      ),
  },
});

/** The card on instrument entity pages (Resources of spec.type instrument by default). @alpha */
export const labSchedulerEntityCard = EntityCardBlueprint.make({
  name: 'instrument-schedule',
  params: {
    filter: { kind: 'resource', 'spec.type': 'instrument' } as any,
    loader: () =>
      import('./components/EntityLabSchedulerCard').then(m =>
        compatWrapper(<m.EntityLabSchedulerCard />),
      ),
  },
});

/** The "Calendar" tab on instrument entity pages: the instrument's upcoming runs. @alpha */
export const labSchedulerEntityCalendar = EntityContentBlueprint.make({
  name: 'instrument-calendar',
  params: {
    path: 'lab-calendar',
    title: 'Calendar',
    filter: { kind: 'resource', 'spec.type': 'instrument' } as any,
    loader: () =>
      import('./components/InstrumentCalendar').then(m =>
        compatWrapper(<m.EntityInstrumentCalendarContent />),
      ),
  },
});

/** The Lab Scheduler frontend plugin (new frontend system). @alpha */
export default createFrontendPlugin({
  pluginId: 'lab-scheduler',
  routes: convertLegacyRouteRefs({
    root: rootRouteRef,
    task: taskRouteRef,
    run: runRouteRef,
    calendar: calendarRouteRef,
  }),
  extensions: [
    labSchedulerApi,
    labSchedulerPage,
    labSchedulerEntityCard,
    labSchedulerEntityCalendar,
  ],
});
