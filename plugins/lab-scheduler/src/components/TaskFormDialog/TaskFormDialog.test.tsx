import { catalogApiRef } from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { useState } from 'react';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { labSchedulerApiRef } from '../../api';
import { fakeApi, makeTask } from '../fakeApi';
import { TaskFormDialog } from './TaskFormDialog';

// Rendering a Backstage app in jsdom is slow when the machine is busy (the suites run in parallel).
jest.setTimeout(60_000);

const instrument = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Resource',
  metadata: {
    name: 'plate-reader-1',
    namespace: 'default',
    title: 'Plate reader 1',
    annotations: {
      'lab-scheduler.io/measurement-types': 'absorbance-spectrum,plate-od',
    },
  },
  spec: { type: 'instrument', owner: 'group:default/lab-ops' },
};

async function renderDialog(createTask: (body: any) => Promise<any>) {
  const api = fakeApi([]);
  (api.createTask as jest.Mock).mockImplementation(createTask);
  const onSaved = jest.fn();
  await renderInTestApp(
    <TestApiProvider
      apis={[
        [labSchedulerApiRef, api],
        [catalogApiRef, catalogApiMock({ entities: [instrument] })],
      ]}
    >
      <TaskFormDialog
        open
        onClose={() => {}}
        onSaved={onSaved}
        instrumentRef="resource:default/plate-reader-1"
      />
    </TestApiProvider>,
  );
  return { api, onSaved };
}

describe('TaskFormDialog', () => {
  it('announces client-side errors in plain words, focuses the first invalid field and sends nothing', async () => {
    const { api } = await renderDialog(async () => makeTask(1));
    fireEvent.change(screen.getByLabelText(/Cron expression/), {
      target: { value: '99 * * * *' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Check these 2 fields:');
    expect(alert).toHaveTextContent('Name: Enter a name');
    expect(alert).toHaveTextContent(/Cron expression: .*not a valid cron/);
    await waitFor(() =>
      expect(document.activeElement).toBe(screen.getByLabelText(/^Name/)),
    );
    expect(api.createTask).not.toHaveBeenCalled();
  });

  it('fills the measurement type of an instrument preset while closed (the instrument card)', async () => {
    const api = fakeApi([]);
    (api.createTask as jest.Mock).mockImplementation(async () => makeTask(1));
    const onSaved = jest.fn();
    const Card = () => {
      const [open, setOpen] = useState(false);
      return (
        <>
          <button onClick={() => setOpen(true)}>open form</button>
          <TaskFormDialog
            open={open}
            onClose={() => setOpen(false)}
            onSaved={onSaved}
            instrumentRef="resource:default/plate-reader-1"
          />
        </>
      );
    };
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [labSchedulerApiRef, api],
          [catalogApiRef, catalogApiMock({ entities: [instrument] })],
        ]}
      >
        <Card />
      </TestApiProvider>,
    );
    // The catalog answers before the form opens; opening resets the form.
    await new Promise(r => setTimeout(r, 50));
    fireEvent.click(screen.getByText('open form'));
    await screen.findByText('Absorbance spectrum');
    fireEvent.change(screen.getByLabelText(/^Name/), {
      target: { value: 'Blank check' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(api.createTask).toHaveBeenCalledWith(
      expect.objectContaining({
        measurement: expect.objectContaining({ type: 'absorbance-spectrum' }),
      }),
    );
  });

  it('builds the parameter form from the backend’s descriptor, QC in its own section, JSON behind a switch', async () => {
    const { api } = await renderDialog(async () => makeTask(1));
    const start = await screen.findByLabelText('Start wavelength');
    expect(start).toHaveAttribute('type', 'number');
    expect(screen.getByText('Quality checks (optional)')).toBeInTheDocument();
    expect(screen.getByLabelText('Expected peak')).toHaveValue(null);
    fireEvent.change(start, { target: { value: '100' } });
    fireEvent.change(screen.getByLabelText(/^Name/), {
      target: { value: 'Blank check' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Start wavelength: must be at least 190 nm',
    );
    await waitFor(() => expect(document.activeElement).toBe(start));
    expect(api.createTask).not.toHaveBeenCalled();
    // The same parameters as JSON, edited in place.
    fireEvent.click(screen.getByLabelText(/Edit parameters as JSON/));
    expect(
      (screen.getByLabelText(/Parameters \(JSON\)/) as HTMLTextAreaElement)
        .value,
    ).toContain('"startNm": 100');
  });

  it('maps a 400 from the server onto the fields, and the select exposes its error', async () => {
    const serverError = Object.assign(new Error('Invalid request'), {
      body: {
        error: {
          name: 'InputError',
          message: 'Invalid request',
          details: [
            {
              path: 'instrumentRef',
              message:
                "'resource:default/plate-reader-1' is not an instrument in the catalog (expected a Resource)",
            },
          ],
        },
      },
    });
    const { api, onSaved } = await renderDialog(async () => {
      throw serverError;
    });
    fireEvent.change(screen.getByLabelText(/^Name/), {
      target: { value: 'Blank check' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    const message = 'This instrument is not in the catalog; choose another one';
    expect(await screen.findByRole('alert')).toHaveTextContent(
      `Instrument: ${message}`,
    );
    const select = document.getElementById(
      'lab-scheduler-instrumentRef-button',
    )!;
    expect(select).toHaveAttribute('aria-invalid', 'true');
    expect(select).toHaveAccessibleDescription(message);
    await waitFor(() => expect(document.activeElement).toBe(select));
    expect(api.createTask).toHaveBeenCalledWith(
      expect.objectContaining({
        name: 'Blank check',
        instrumentRef: 'resource:default/plate-reader-1',
        schedule: expect.objectContaining({
          type: 'cron',
          expression: '0 9 * * 1-5',
        }),
      }),
    );
    expect(onSaved).not.toHaveBeenCalled();
  });

  it('says what a conflict means instead of the status line', async () => {
    await renderDialog(async () => {
      throw Object.assign(new Error('Request failed with 409 Conflict'), {
        statusCode: 409,
        body: {
          error: { name: 'ConflictError', message: 'version 1 is stale' },
        },
      });
    });
    fireEvent.change(screen.getByLabelText(/^Name/), {
      target: { value: 'Blank check' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent(/Someone changed this task/);
    expect(alert).not.toHaveTextContent('409');
  });

  it('keeps what the user typed when the page reloads the task, and saves against the version it opened', async () => {
    const api = fakeApi([]);
    (api.updateTask as jest.Mock).mockImplementation(async () => makeTask(1));
    const Page = () => {
      const [task, setTask] = useState(makeTask(1));
      return (
        <>
          {/* What live updates do: the same task again, changed by someone else (version 2). */}
          <button
            onClick={() =>
              setTask(makeTask(1, { version: 2, name: 'Renamed' }))
            }
          >
            reload
          </button>
          <TaskFormDialog
            open
            task={task}
            onClose={() => {}}
            onSaved={() => {}}
          />
        </>
      );
    };
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [labSchedulerApiRef, api],
          [catalogApiRef, catalogApiMock({ entities: [instrument] })],
        ]}
      >
        <Page />
      </TestApiProvider>,
    );
    fireEvent.change(screen.getByLabelText(/^Description/), {
      target: { value: 'typed by me' },
    });
    fireEvent.click(
      screen.getByRole('button', { name: 'reload', hidden: true }),
    );
    expect(screen.getByLabelText(/^Description/)).toHaveValue('typed by me');
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(api.updateTask).toHaveBeenCalled());
    expect((api.updateTask as jest.Mock).mock.calls[0][1]).toBe(1);
  });

  it('previews the next runs of the chosen schedule', async () => {
    await renderDialog(async () => makeTask(1));
    expect(screen.getByTestId('schedule-preview')).toHaveTextContent(
      'Monday through Friday',
    );
    expect(
      within(screen.getByTestId('schedule-preview')).getAllByRole('listitem'),
    ).toHaveLength(5);
  });
});
