import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { SWRConfig } from 'swr';
import { labSchedulerApiRef } from '../../api';
import { rootRouteRef } from '../../routes';
import { fakeApi, makeTask } from '../fakeApi';
import { UpcomingTasksPage } from './UpcomingTasksPage';

// Rendering a Backstage app in jsdom is slow when the machine is busy (the suites run in parallel).
jest.setTimeout(60_000);

const tasks = Array.from({ length: 30 }, (_, i) =>
  makeTask(i, { state: i % 3 === 0 ? 'paused' : 'active' }),
);

let permission: ReturnType<typeof mockApis.permission>;

async function renderPage(
  allow: AuthorizeResult.ALLOW | AuthorizeResult.DENY = AuthorizeResult.ALLOW,
  path = '/',
) {
  const api = fakeApi(tasks);
  permission = mockApis.permission({ authorize: allow });
  jest.spyOn(permission, 'authorize');
  await renderInTestApp(
    <TestApiProvider
      apis={[
        [labSchedulerApiRef, api],
        [catalogApiRef, catalogApiMock()],
        [permissionApiRef, permission],
      ]}
    >
      {/* usePermission caches decisions in SWR: a fresh cache per render keeps tests independent. */}
      <SWRConfig value={{ provider: () => new Map() }}>
        <UpcomingTasksPage />
      </SWRConfig>
    </TestApiProvider>,
    { mountedRoutes: { '/lab-scheduler': rootRouteRef }, routeEntries: [path] },
  );
  return api;
}

describe('UpcomingTasksPage', () => {
  it('pages through tasks with server cursors', async () => {
    const api = await renderPage(AuthorizeResult.ALLOW, '/?limit=10');
    expect(await screen.findByText('Task 0')).toBeInTheDocument();
    expect(screen.queryByText('Task 10')).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Next page' }));
    expect(await screen.findByText('Task 10')).toBeInTheDocument();
    expect(screen.queryByText('Task 0')).not.toBeInTheDocument();
    expect(api.calls.at(-1)).toEqual([
      'listTasks',
      expect.objectContaining({ limit: 10, cursor: '10' }),
    ]);
    fireEvent.click(screen.getByRole('button', { name: 'Previous page' }));
    expect(await screen.findByText('Task 0')).toBeInTheDocument();
  });

  it('filters by state through the API', async () => {
    const api = await renderPage();
    await screen.findByText('Task 1');
    fireEvent.mouseDown(screen.getByLabelText('State'));
    fireEvent.click(within(screen.getByRole('listbox')).getByText('Paused'));
    await waitFor(() =>
      expect(screen.queryByText('Task 1')).not.toBeInTheDocument(),
    );
    expect(screen.getByText('Task 3')).toBeInTheDocument();
    expect(api.calls.at(-1)).toEqual([
      'listTasks',
      expect.objectContaining({ state: 'paused' }),
    ]);
  });

  it('shows create, edit and delete actions only when permitted', async () => {
    await renderPage(AuthorizeResult.ALLOW);
    await screen.findByText('Task 1');
    expect(
      screen.getByRole('button', { name: /Schedule a measurement/ }),
    ).toBeInTheDocument();
    expect(
      await screen.findByRole('button', { name: 'Edit Task 1' }),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('button', { name: 'Delete Task 1' }),
    ).toBeInTheDocument();
  });

  it('hides every action from a user who may not act', async () => {
    await renderPage(AuthorizeResult.DENY);
    await screen.findByText('Task 1');
    // The decisions have arrived (the page asked for them) and hide every action.
    await waitFor(() => expect(permission.authorize).toHaveBeenCalled());
    expect(
      screen.queryByRole('button', { name: /Schedule a measurement/ }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Edit Task 1' }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Delete Task 1' }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Run Task 1 now' }),
    ).not.toBeInTheDocument();
  });
});
