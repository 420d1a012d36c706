import { catalogApiRef } from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { labSchedulerApiRef } from '../../api';
import { fakeApi } from '../fakeApi';
import { TaskFormDialog } from '../TaskFormDialog';

jest.setTimeout(60_000);

const instrument = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Resource',
  metadata: {
    name: 'plate-reader-1',
    namespace: 'default',
    title: 'Plate reader 1',
    annotations: { 'lab-scheduler.io/measurement-types': 'plate-od' },
  },
  spec: { type: 'instrument', owner: 'group:default/lab-ops' },
};

describe('the clash panel in the task form', () => {
  it('checks the draft being edited and shows what it clashes with', async () => {
    const api = fakeApi([]);
    const checkClashes = jest.fn(async (request: any) => ({
      instrumentRef: request.instrumentRef,
      capacity: 1,
      durationMs: 300_000,
      occurrences: [
        {
          start: '2030-01-01T10:01:00.000Z',
          end: '2030-01-01T10:06:00.000Z',
          overCapacityMs: 120_000,
          overlaps: [
            {
              start: '2030-01-01T10:00:00.000Z',
              end: '2030-01-01T10:03:00.000Z',
              overlapMs: 120_000,
              task: { id: 'x', name: 'Morning blank' },
            },
          ],
        },
      ],
    }));
    (api as any).checkClashes = checkClashes;
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
          onSaved={() => {}}
          instrumentRef="resource:default/plate-reader-1"
        />
      </TestApiProvider>,
    );
    fireEvent.change(screen.getByLabelText(/Cron expression/), {
      target: { value: '1 10 * * *' },
    });
    expect(
      await screen.findByText(/1 of the next 1 runs clash on plate-reader-1/),
    ).toBeInTheDocument();
    await waitFor(() =>
      expect(checkClashes).toHaveBeenLastCalledWith(
        expect.objectContaining({
          instrumentRef: 'resource:default/plate-reader-1',
          measurementType: 'plate-od',
          schedule: expect.objectContaining({ expression: '1 10 * * *' }),
        }),
      ),
    );
  });
});
