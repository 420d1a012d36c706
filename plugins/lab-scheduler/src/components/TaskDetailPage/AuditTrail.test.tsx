import { catalogApiRef, entityRouteRef } from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import type { AuditEntry } from '@lab-scheduler/plugin-lab-scheduler-common';
import { screen, within } from '@testing-library/react';
import { pretendWindowWidth } from '../../__testUtils__/windowWidth';
import { AuditTrail } from './AuditTrail';

jest.setTimeout(60_000);

const entry = (
  id: number,
  actor: string,
  action: AuditEntry['action'],
): AuditEntry =>
  ({
    id,
    taskId: '00000000-0000-4000-8000-000000000001',
    actor,
    action,
    at: '2030-01-01T09:00:00.000Z',
    before: null,
    after: null,
  } as unknown as AuditEntry);

describe('AuditTrail', () => {
  it('names a user by a link to their catalog page, and a script’s token as it is', async () => {
    await renderInTestApp(
      <TestApiProvider apis={[[catalogApiRef, catalogApiMock()]]}>
        <AuditTrail
          entries={[
            entry(1, 'service:lab-scheduler-scripts', 'create'),
            entry(2, 'user:default/ada', 'delete'),
          ]}
        />
      </TestApiProvider>,
      { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
    );
    const rows = screen.getAllByRole('row');
    const created = rows.find(r => r.textContent?.includes('created'))!;
    const deleted = rows.find(r => r.textContent?.includes('deleted'))!;
    // Not the raw ref: a link to the user's entity page (its title once the catalog answers).
    expect(within(deleted).getByRole('link')).toHaveAttribute(
      'href',
      '/catalog/default/user/ada',
    );
    expect(deleted).not.toHaveTextContent('user:default/ada');
    // A service has no catalog entity: its name, no link.
    expect(created).toHaveTextContent('service:lab-scheduler-scripts');
    expect(within(created).queryByRole('link')).toBeNull();
  });

  it('lists the entries one per line in an 800 px window, with what changed', async () => {
    const restore = pretendWindowWidth(800);
    try {
      const update = {
        ...entry(3, 'user:default/ada', 'update'),
        before: { name: 'A', schedule: { type: 'once' }, version: 1 },
        after: { name: 'A', schedule: { type: 'cron' }, version: 2 },
      } as unknown as AuditEntry;
      await renderInTestApp(
        <TestApiProvider apis={[[catalogApiRef, catalogApiMock()]]}>
          <AuditTrail
            entries={[
              entry(1, 'service:lab-scheduler-scripts', 'create'),
              update,
            ]}
          />
        </TestApiProvider>,
        {
          mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef },
        },
      );
      expect(screen.queryByRole('table')).toBeNull();
      const items = within(
        screen.getByRole('list', { name: 'Audit trail' }),
      ).getAllByRole('listitem');
      expect(items).toHaveLength(2);
      expect(items[0]).toHaveTextContent(
        'created by service:lab-scheduler-scripts',
      );
      expect(items[1]).toHaveTextContent(/changed by .* · schedule$/);
    } finally {
      restore();
    }
  });
});
