import { catalogApiRef } from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { fireEvent, screen } from '@testing-library/react';
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
  it('shows client-side errors and sends nothing', async () => {
    const { api } = await renderDialog(async () => makeTask(1));
    fireEvent.change(screen.getByLabelText(/Cron expression/), {
      target: { value: '99 * * * *' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    expect(await screen.findByText('must not be empty')).toBeInTheDocument();
    expect(
      screen.getAllByText(/is not a valid cron expression/).length,
    ).toBeGreaterThanOrEqual(1);
    expect(api.createTask).not.toHaveBeenCalled();
  });

  it('maps a 400 from the server onto the fields', async () => {
    const serverError = Object.assign(new Error('Invalid request'), {
      body: {
        error: {
          name: 'InputError',
          message: 'Invalid request',
          details: [
            {
              path: 'instrumentRef',
              message: 'is not an instrument in the catalog',
            },
          ],
        },
      },
    });
    const { api, onSaved } = await renderDialog(async () => {
      throw serverError;
    });
    fireEvent.change(screen.getByLabelText(/Name/), {
      target: { value: 'Blank check' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    expect(
      await screen.findByText('is not an instrument in the catalog'),
    ).toBeInTheDocument();
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

  it('previews the next runs of the chosen schedule', async () => {
    await renderDialog(async () => makeTask(1));
    expect(screen.getByTestId('schedule-preview')).toHaveTextContent(
      'Monday through Friday',
    );
    expect(screen.getAllByRole('listitem')).toHaveLength(5);
  });
});
