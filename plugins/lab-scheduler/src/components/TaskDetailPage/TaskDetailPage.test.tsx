import { Task } from '@lab-scheduler/plugin-lab-scheduler-common';
import { fireEvent, screen } from '@testing-library/react';
import { Route, Routes } from 'react-router-dom';
import { fakeApi, makeTask } from '../fakeApi';
import { renderInPortal } from '../../__testUtils__/renderInPortal';
import { TaskDetailPage } from './TaskDetailPage';

jest.setTimeout(60_000);

/**
 * Renders the page of `task`. Unless `keepMocks`, the API answers the task, no runs and no audit
 * entries.
 */
async function renderTaskPage(
  api: ReturnType<typeof fakeApi>,
  task: Task,
  { keepMocks = false } = {},
) {
  if (!keepMocks) {
    (api.getTask as jest.Mock).mockImplementation(async () => task);
    (api.listRuns as jest.Mock).mockImplementation(async () => ({
      items: [],
      nextCursor: null,
    }));
    (api.listAudit as jest.Mock).mockImplementation(async () => ({
      items: [],
      nextCursor: null,
    }));
  }
  await renderInPortal(
    <Routes>
      <Route path="/tasks/:id" element={<TaskDetailPage />} />
    </Routes>,
    { api, path: `/tasks/${task.id}` },
  );
}

describe('TaskDetailPage', () => {
  it("names a module's measurement type by the title the backend gives", async () => {
    const task = makeTask(1, {
      measurement: { type: 'turbidity', parameters: { replicates: 3 } },
    });
    const api = fakeApi([task]);
    const builtIn = await api.listMeasurementTypes();
    api.listMeasurementTypes = async () => ({
      items: [
        ...builtIn.items,
        {
          type: 'turbidity',
          title: 'Turbidity (nephelometer)',
          description: 'Replicate nephelometric readings',
          parameterSchema: null,
        },
      ],
    });
    await renderTaskPage(api, task);
    expect(
      await screen.findByText('Turbidity (nephelometer)'),
    ).toBeInTheDocument();
  });

  it('shows the parameters and policies in words, with units', async () => {
    const task = makeTask(1, {
      measurement: {
        type: 'absorbance-spectrum',
        parameters: {
          startNm: 230,
          endNm: 700,
          qc: { minPeakAbsorbance: 0.2 },
        },
      },
      policies: {
        misfire: 'run_all',
        misfireWindowSeconds: 7200,
        overlap: 'allow',
        instrumentConcurrency: 1,
        notify: 'every_run',
      },
    });
    const api = fakeApi([task]);
    await renderTaskPage(api, task);
    expect(
      await screen.findByText('Start wavelength: 230 nm'),
    ).toBeInTheDocument();
    expect(screen.getByText('End wavelength: 700 nm')).toBeInTheDocument();
    expect(screen.getByText('QC thresholds')).toBeInTheDocument();
    expect(
      screen.getByText('Lowest peak absorbance: 0.2 AU'),
    ).toBeInTheDocument();
    expect(
      screen.getByText(
        'After downtime (misfire): Run every missed occurrence of the last 2 h',
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByText('If still running (overlap): Run anyway'),
    ).toBeInTheDocument();
    expect(
      screen.getByText('Notify the owner: After every run'),
    ).toBeInTheDocument();
  });

  it('shows the task as deleted once it is deleted from its own page', async () => {
    const task = makeTask(1);
    const api = fakeApi([task]);
    let deleted = false;
    (api.getTask as jest.Mock).mockImplementation(async () => {
      if (deleted)
        throw Object.assign(new Error('Task not found'), { statusCode: 404 });
      return task;
    });
    (api.deleteTask as jest.Mock).mockImplementation(async () => {
      deleted = true;
    });
    (api.listRuns as jest.Mock).mockImplementation(async () => {
      if (deleted)
        throw Object.assign(new Error('Task not found'), { statusCode: 404 });
      return { items: [], nextCursor: null };
    });
    (api.listAudit as jest.Mock).mockImplementation(async () => ({
      items: deleted
        ? [
            {
              action: 'delete',
              actor: 'user:default/ada',
              at: new Date().toISOString(),
              before: task,
              after: null,
            },
          ]
        : [],
      nextCursor: null,
    }));
    await renderTaskPage(api, task, { keepMocks: true });
    fireEvent.click(
      await screen.findByRole('button', { name: `Delete ${task.name}` }),
    );
    fireEvent.click(await screen.findByRole('button', { name: 'Delete' }));
    expect(
      await screen.findByText(/This task was deleted by/),
    ).toBeInTheDocument();
    expect(screen.queryByText('Definition')).not.toBeInTheDocument();
  });
});
