import { render, screen } from '@testing-library/react';
import { Run } from '@lab-scheduler/plugin-lab-scheduler-common';
import { makeTask } from '../fakeApi';
import { TaskStateChip } from './TaskStateChip';

const run = (status: Run['status']): Run => ({
  id: '00000000-0000-4000-8000-0000000000aa',
  taskId: makeTask(1).id,
  scheduledFor: '2030-01-01T09:00:00.000Z',
  status,
  attempt: 1,
  claimedAt: null,
  publishedAt: null,
  startedAt: null,
  finishedAt: null,
  result: null,
  error: null,
});

describe('TaskStateChip', () => {
  it('shows a one-time task whose run is under way by that run, not as completed', () => {
    for (const status of ['pending', 'queued', 'running'] as const) {
      const { unmount } = render(
        <TaskStateChip
          task={makeTask(1, {
            state: 'active',
            nextRunAt: null,
            lastRun: run(status),
          })}
        />,
      );
      const label = status.charAt(0).toUpperCase() + status.slice(1);
      expect(screen.getByText(label)).toBeInTheDocument();
      expect(screen.queryByText(/completed/i)).not.toBeInTheDocument();
      unmount();
    }
  });

  it('names the other states', () => {
    const cases = [
      [makeTask(1), 'Active'],
      [makeTask(2, { state: 'paused', nextRunAt: null }), 'Paused'],
      [
        makeTask(3, {
          state: 'completed',
          nextRunAt: null,
          lastRun: run('succeeded'),
        }),
        'Completed',
      ],
      [
        makeTask(4, {
          state: 'active',
          nextRunAt: null,
          lastRun: run('succeeded'),
        }),
        'Finishing',
      ],
    ] as const;
    for (const [task, label] of cases) {
      const { unmount } = render(<TaskStateChip task={task} />);
      expect(screen.getByText(label)).toBeInTheDocument();
      unmount();
    }
  });
});
