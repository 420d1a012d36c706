import { Entity } from '@backstage/catalog-model';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { screen } from '@testing-library/react';
import { fakeApi, makeTask } from '../fakeApi';
import { renderInPortal } from '../../__testUtils__/renderInPortal';
import { EntityLabSchedulerCard } from './EntityLabSchedulerCard';

jest.setTimeout(60_000);

const instrument: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Resource',
  metadata: { name: 'plate-reader-1', namespace: 'default' },
  spec: { type: 'instrument' },
};

async function renderCard(taskCount: number) {
  const api = fakeApi(
    Array.from({ length: taskCount }, (_, i) =>
      makeTask(i + 1, {
        lastRun: {
          id: `00000000-0000-4000-8000-0000000000a${i}`,
          taskId: makeTask(i + 1).id,
          scheduledFor: '2030-01-01T09:00:00.000Z',
          status: 'succeeded',
          attempt: 1,
          claimedAt: null,
          publishedAt: null,
          startedAt: '2030-01-01T09:00:01.000Z',
          finishedAt: '2030-01-01T09:00:05.000Z',
          result: null,
          error: null,
        } as any,
      }),
    ),
  );
  await renderInPortal(
    <EntityProvider entity={instrument}>
      <EntityLabSchedulerCard />
    </EntityProvider>,
    { api },
  );
}

describe('EntityLabSchedulerCard', () => {
  it('counts its tasks in words: "1 task", not "1 tasks"', async () => {
    await renderCard(1);
    expect(
      await screen.findByRole('link', { name: /View all 1 task$/ }),
    ).toBeInTheDocument();
  });

  it('offers no "View all" link for an instrument without tasks', async () => {
    await renderCard(0);
    expect(
      await screen.findByText(
        'No measurements are scheduled on this instrument.',
      ),
    ).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: /View all/ })).toBeNull();
  });

  it('says "tasks" for more than one', async () => {
    await renderCard(2);
    expect(
      await screen.findByRole('link', { name: /View all 2 tasks$/ }),
    ).toBeInTheDocument();
  });

  it('renders valid HTML around the status chips (no block inside a paragraph)', async () => {
    const errors = jest.spyOn(console, 'error');
    await renderCard(1);
    await screen.findByText('Task 1');
    const nesting = errors.mock.calls.filter(call =>
      String(call[0]).includes('validateDOMNesting'),
    );
    errors.mockRestore();
    expect(nesting).toEqual([]);
    expect(document.querySelector('p div')).toBeNull();
  });
});
