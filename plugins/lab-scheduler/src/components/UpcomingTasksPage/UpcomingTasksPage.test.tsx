import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { catalogApiRef, entityRouteRef } from '@backstage/plugin-catalog-react';
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
import { pretendWindowWidth } from '../../__testUtils__/windowWidth';

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
    {
      mountedRoutes: {
        '/lab-scheduler': rootRouteRef,
        '/catalog/:namespace/:kind/:name': entityRouteRef,
      },
      routeEntries: [path],
    },
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

  it('shows the instrument the address filters by before the catalog lists it', async () => {
    const errors = jest.spyOn(console, 'error');
    const api = await renderPage(
      AuthorizeResult.ALLOW,
      '/?instrument=resource%3Adefault%2Fbalance-1',
    );
    await waitFor(() =>
      expect(api.calls.at(-1)).toEqual([
        'listTasks',
        expect.objectContaining({ instrument: 'resource:default/balance-1' }),
      ]),
    );
    expect(
      screen.getByRole('button', { name: /Instrument balance-1/ }),
    ).toBeInTheDocument();
    const outOfRange = errors.mock.calls.filter(call =>
      String(call[0]).includes('out-of-range value'),
    );
    errors.mockRestore();
    expect(outOfRange).toEqual([]);
  });

  it('lists the tasks as cards in an 800 px window, where the table would not fit', async () => {
    const restore = pretendWindowWidth(800);
    try {
      await renderPage();
      const cards = await screen.findByRole('list', { name: 'Tasks' });
      expect(within(cards).getByText('Task 0')).toBeInTheDocument();
      expect(screen.queryByRole('table')).toBeNull();
    } finally {
      restore();
    }
  });

  it('searches once typing pauses, not at every keystroke', async () => {
    const api = await renderPage();
    await screen.findByText('Task 1');
    const search = screen.getByRole('textbox', { name: 'Search' });
    for (const text of ['d', 'dr', 'dri', 'drift'])
      fireEvent.change(search, { target: { value: text } });
    await waitFor(() =>
      expect(api.calls.at(-1)).toEqual([
        'listTasks',
        expect.objectContaining({ text: 'drift' }),
      ]),
    );
    const searched = api.calls
      .filter(c => c[0] === 'listTasks' && c[1].text)
      .map(c => c[1].text);
    expect(searched).toEqual(['drift']);
    expect(search).toHaveValue('drift');
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

  it('asks the server for my and my groups’ tasks, and shows the total', async () => {
    const api = await renderPage(AuthorizeResult.ALLOW, '/?limit=10');
    expect(await screen.findByText('Page 1 · 30 tasks')).toBeInTheDocument();
    fireEvent.mouseDown(screen.getByLabelText('Owner'));
    fireEvent.click(
      within(screen.getByRole('listbox')).getByText('Mine and my groups’'),
    );
    await waitFor(() =>
      expect(api.calls.at(-1)).toEqual([
        'listTasks',
        expect.objectContaining({ mine: true, owner: undefined, count: true }),
      ]),
    );
  });

  it('runs now only after confirmation, and links the task in the notice', async () => {
    const api = await renderPage();
    (api.triggerTask as jest.Mock).mockImplementation(async () => ({}));
    fireEvent.click(
      await screen.findByRole('button', { name: 'Run Task 1 now' }),
    );
    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent('Run “Task 1” now?');
    expect(api.triggerTask).not.toHaveBeenCalled();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Run now' }));
    const notice = await screen.findByRole('status');
    expect(notice).toHaveTextContent('Run started: “Task 1”.');
    expect(
      within(notice).getByRole('link', { name: 'Open task' }),
    ).toHaveAttribute('href', `/lab-scheduler/tasks/${tasks[1].id}`);
    expect(api.triggerTask).toHaveBeenCalledWith(tasks[1].id);
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
