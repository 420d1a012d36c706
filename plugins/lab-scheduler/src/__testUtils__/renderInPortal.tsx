import { ReactElement } from 'react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { catalogApiRef, entityRouteRef } from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import { SignalApi, signalApiRef } from '@backstage/plugin-signals-react';
import { SWRConfig } from 'swr';
import { LabSchedulerApi, labSchedulerApiRef } from '../api';
import { rootRouteRef } from '../routes';

/**
 * For component tests: renders `element` at `path` as the portal would, with the given Lab Scheduler API,
 * an empty catalog, every permission allowed, and the plugin's and the catalog's routes mounted; with
 * `signals`, the portal has the signals plugin.
 */
export async function renderInPortal(
  element: ReactElement,
  {
    api,
    path = '/',
    signals,
  }: { api: LabSchedulerApi; path?: string; signals?: SignalApi },
) {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [labSchedulerApiRef, api],
        [catalogApiRef, catalogApiMock()],
        [
          permissionApiRef,
          mockApis.permission({ authorize: AuthorizeResult.ALLOW }),
        ],
        ...(signals ? [[signalApiRef, signals] as const] : []),
      ]}
    >
      {/* usePermission caches decisions in SWR: a fresh cache per render keeps tests independent. */}
      <SWRConfig value={{ provider: () => new Map() }}>{element}</SWRConfig>
    </TestApiProvider>,
    {
      mountedRoutes: {
        '/lab-scheduler': rootRouteRef,
        '/catalog/:namespace/:kind/:name': entityRouteRef,
      },
      routeEntries: [path],
    },
  );
}
