import { ReactElement } from 'react';
import { Entity } from '@backstage/catalog-model';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { SignalApi } from '@backstage/plugin-signals-react';
import { Run, Task } from '@lab-scheduler/plugin-lab-scheduler-common';
import { act, screen, waitFor } from '@testing-library/react';
import { Route, Routes } from 'react-router-dom';
import { renderInPortal } from '../__testUtils__/renderInPortal';
import { EntityLabSchedulerCard } from './EntityLabSchedulerCard';
import { fakeApi, makeTask } from './fakeApi';
import { TaskDetailPage } from './TaskDetailPage';
import { UpcomingTasksPage } from './UpcomingTasksPage';
import { RUN_UPDATES_CHANNEL } from './useRunUpdates';

// Rendering a Backstage app in jsdom is slow when the machine is busy; the polling case waits 5 s.
jest.setTimeout(60_000);

/**
 * Live updates of the task list, the task page and the instrument card (issue 12): a run-update signal
 * reloads them at once; without the signals plugin they poll (every 5 s). Each page shows a one-time task
 * whose run is running, then — after the backend changed — its completed state and QC pass.
 */

/** A signals client whose `emit` delivers a message to every subscriber, as the signals backend would. */
function fakeSignals() {
  const listeners = new Set<{ channel: string; fn: (m: any) => void }>();
  const api: SignalApi = {
    subscribe(channel, onMessage) {
      const entry = { channel, fn: onMessage as (m: any) => void };
      listeners.add(entry);
      return { unsubscribe: () => listeners.delete(entry) };
    },
  };
  const emit = (channel: string) =>
    [...listeners]
      .filter(l => l.channel === channel)
      .forEach(l => l.fn({ type: 'changed' }));
  return { api, emit };
}

const run = (status: Run['status']): Run => ({
  id: '00000000-0000-4000-8000-0000000000aa',
  taskId: makeTask(1).id,
  scheduledFor: '2030-01-01T09:00:00.000Z',
  status,
  attempt: 1,
  claimedAt: '2030-01-01T09:00:00.100Z',
  publishedAt: '2030-01-01T09:00:00.200Z',
  startedAt: '2030-01-01T09:00:01.000Z',
  finishedAt: status === 'running' ? null : '2030-01-01T09:00:05.000Z',
  result:
    status === 'running'
      ? null
      : {
          measurementType: 'absorbance-spectrum',
          driver: 'simulated',
          summary: {},
          qc: { status: 'pass', checks: [] },
          rawData: { uri: 'file:///r', bytes: 1, sha256: '0'.repeat(64) },
          durationMs: 4000,
        },
  error: null,
});

/** The backend's answers: the task running at first, completed with a QC pass after `finish()`. */
function backend() {
  const task = makeTask(1, {
    name: 'Spectrum once',
    instrumentRef: 'resource:default/uv-vis-1',
    nextRunAt: null,
    lastRun: run('running'),
  });
  const tasks: Task[] = [task];
  const api = fakeApi(tasks);
  const runs = () => ({ items: [task.lastRun!], nextCursor: null });
  (api.getTask as jest.Mock).mockImplementation(async () => ({ ...task }));
  (api.listRuns as jest.Mock).mockImplementation(async () => runs());
  (api.listAudit as jest.Mock).mockImplementation(async () => ({
    items: [],
    nextCursor: null,
  }));
  const finish = () => {
    Object.assign(task, { state: 'completed', lastRun: run('succeeded') });
  };
  return { api, task, finish };
}

const instrument: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Resource',
  metadata: { name: 'uv-vis-1', namespace: 'default' },
  spec: { type: 'instrument' },
};

const PAGES: {
  name: string;
  element: ReactElement;
  path: string;
  /** The API calls that reload what the page shows. */
  reloads: string[];
}[] = [
  {
    name: 'the task list',
    element: <UpcomingTasksPage />,
    path: '/',
    reloads: ['listTasks'],
  },
  {
    name: 'the task page',
    element: (
      <Routes>
        <Route path="/tasks/:id" element={<TaskDetailPage />} />
      </Routes>
    ),
    path: `/tasks/${makeTask(1).id}`,
    reloads: ['getTask', 'listRuns'],
  },
  {
    name: 'the instrument card',
    element: (
      <EntityProvider entity={instrument}>
        <EntityLabSchedulerCard />
      </EntityProvider>
    ),
    path: '/',
    reloads: ['listTasks'],
  },
];

async function render(
  page: (typeof PAGES)[number],
  signals?: ReturnType<typeof fakeSignals>,
) {
  const { api, finish } = backend();
  const calls = (name: string) =>
    name === 'listTasks'
      ? api.calls.filter(c => c[0] === 'listTasks').length
      : (api as any)[name].mock.calls.length;
  await renderInPortal(page.element, {
    api,
    path: page.path,
    signals: signals?.api,
  });
  // Running at first: the run's chip, and the task's state says so rather than "completed".
  expect((await screen.findAllByText('Running')).length).toBeGreaterThan(0);
  expect(screen.queryByText('QC pass')).not.toBeInTheDocument();
  const before = page.reloads.map(calls);
  return {
    finish,
    reloaded: () => page.reloads.map((name, i) => calls(name) - before[i]),
  };
}

describe.each(PAGES)('live updates of $name', page => {
  it('reloads on the run-update signal (polling only every minute meanwhile)', async () => {
    const signals = fakeSignals();
    const { finish, reloaded } = await render(page, signals);
    finish();
    act(() => signals.emit(RUN_UPDATES_CHANNEL));
    // Well before the 5 s poll: it is the signal that reloaded.
    expect(
      (await screen.findAllByText('QC pass', {}, { timeout: 2500 })).length,
    ).toBeGreaterThan(0);
    expect(reloaded().every(n => n >= 1)).toBe(true);
    // A signal on another channel reloads nothing.
    const after = reloaded();
    act(() => signals.emit('some-other-plugin:changes'));
    await new Promise(r => setTimeout(r, 300));
    expect(reloaded()).toEqual(after);
  });

  it('polls without the signals plugin', async () => {
    const { finish, reloaded } = await render(page);
    finish();
    await waitFor(
      () => expect(screen.getAllByText('QC pass').length).toBeGreaterThan(0),
      { timeout: 9000 },
    );
    expect(reloaded().every(n => n >= 1)).toBe(true);
  });
});
