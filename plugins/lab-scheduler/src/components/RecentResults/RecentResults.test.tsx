import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { renderInPortal } from '../../__testUtils__/renderInPortal';
import { fakeApi } from '../fakeApi';
import { recentResult as result } from './recentResultFixture';
import { RecentResults } from './RecentResults';

jest.setTimeout(60_000);

describe('RecentResults', () => {
  it('lists results with outcome chips linking to the run page, filters by outcome and loads older pages', async () => {
    const failed = result(2, {
      status: 'failed',
      error: 'InstrumentFaultError: x',
      result: null,
    });
    const api = Object.assign(fakeApi([]), {
      listRecentResults: jest.fn(async (request: any) => {
        if (request.outcomes) return { items: [failed], nextCursor: null };
        if (request.cursor === 'c1')
          return { items: [result(3)], nextCursor: null };
        return { items: [result(1), failed], nextCursor: 'c1' };
      }),
    });
    await renderInPortal(<RecentResults />, { api });
    expect(await screen.findByText('One-time task 1')).toBeInTheDocument();
    const rows = screen.getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(
      within(rows[0]).getByRole('link', { name: 'QC pass: open the run' }),
    ).toHaveAttribute('href', `/lab-scheduler/runs/${result(1).run.id}`);
    expect(within(rows[1]).getByText('Failed: instrument')).toBeInTheDocument();
    expect(
      within(rows[0]).getByRole('link', { name: 'One-time task 1' }),
    ).toHaveAttribute('href', `/lab-scheduler/tasks/${result(1).task.id}`);
    // The measurement type and the instrument by the names people read, not their ids.
    expect(
      await within(rows[0]).findByText('Mass reading'),
    ).toBeInTheDocument();
    expect(
      within(rows[0]).getByRole('link', { name: /balance-1/ }),
    ).toHaveAttribute('href', '/catalog/default/resource/balance-1');

    fireEvent.click(screen.getByRole('button', { name: 'Older results' }));
    expect(await screen.findByText('One-time task 3')).toBeInTheDocument();
    expect(api.listRecentResults).toHaveBeenLastCalledWith({
      limit: 25,
      cursor: 'c1',
      outcomes: undefined,
    });

    fireEvent.mouseDown(screen.getByRole('button', { name: /Outcome/ }));
    fireEvent.click(
      await screen.findByRole('option', {
        name: 'Failures (QC fail, failed, dead-lettered)',
      }),
    );
    await waitFor(() =>
      expect(screen.queryByText('One-time task 1')).not.toBeInTheDocument(),
    );
    expect(api.listRecentResults).toHaveBeenLastCalledWith({
      limit: 25,
      outcomes: ['qc_fail', 'failed', 'dead_lettered'],
    });
    expect(screen.getByText('One-time task 2')).toBeInTheDocument();
  });
});
