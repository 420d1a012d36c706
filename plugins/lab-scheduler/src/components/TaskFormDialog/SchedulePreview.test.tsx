import { renderInTestApp } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import { SchedulePreview } from './SchedulePreview';

// Rendering a Backstage app in jsdom is slow when the machine is busy (the suites run in parallel).
jest.setTimeout(60_000);

describe('SchedulePreview', () => {
  it('previews a daily 02:30 run across the spring-forward night in its zone, DST-aware', async () => {
    await renderInTestApp(
      <SchedulePreview
        schedule={{
          type: 'cron',
          expression: '30 2 * * *',
          timezone: 'Europe/Berlin',
        }}
        now={Date.parse('2026-03-27T12:00:00Z')}
        count={4}
      />,
    );
    const items = screen.getAllByRole('listitem').map(li => li.textContent);
    expect(items).toHaveLength(4);
    expect(items[0]).toContain('Sat 2026-03-28 02:30 GMT+1');
    // 02:30 does not exist on the 29th: it runs once, shifted by the gap.
    expect(items[1]).toContain('Sun 2026-03-29 03:30 GMT+2');
    expect(items[2]).toContain('Mon 2026-03-30 02:30 GMT+2');
    expect(screen.getByText('At 02:30 (Europe/Berlin)')).toBeInTheDocument();
  });

  it('explains an invalid expression instead of previewing', async () => {
    await renderInTestApp(
      <SchedulePreview
        schedule={{ type: 'cron', expression: '0 0 30 2 *', timezone: 'UTC' }}
      />,
    );
    expect(screen.getByText(/can never fire/)).toBeInTheDocument();
  });
});
