import type { CalendarEntry } from '@lab-scheduler/plugin-lab-scheduler-common';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import { catalogApiMock } from '@backstage/plugin-catalog-react/testUtils';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import { DateTime } from 'luxon';
import { labSchedulerApiRef } from '../../api';
import { rootRouteRef } from '../../routes';
import { fakeApi } from '../fakeApi';
import { InstrumentCalendar } from './InstrumentCalendar';

// Rendering a Backstage app in jsdom is slow when the machine is busy (the suites run in parallel).
jest.setTimeout(60_000);

const instrumentRef = 'resource:default/plate-reader-1';
const day = '2027-03-24';

/** A run at `time` on `day` in the viewer's (test process's) zone. */
const run = (time: string, minutes: number, i: number): CalendarEntry => {
  const start = DateTime.fromISO(`${day}T${time}`);
  return {
    taskId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    taskName: `Task ${i}`,
    instrumentRef,
    measurementType: 'absorbance-spectrum',
    start: start.toUTC().toISO()!,
    end: start.plus({ minutes }).toUTC().toISO()!,
    taskState: 'active',
  };
};

/** A block's `left` and `width` in % of its column, without the gap (`calc(33.33% + 1px)`). */
const lanePercents = (block: HTMLElement) =>
  [block.style.left, block.style.width].map(css => {
    const match = /^calc\(([\d.]+)% [+-] \d+px\)$/.exec(css);
    if (!match) throw new Error(`unexpected ${css}`);
    return Math.round(Number(match[1]) * 100) / 100;
  });

async function renderCalendar(items: CalendarEntry[]) {
  const api = fakeApi([]);
  api.getCalendar = async request => ({ ...request, items, truncated: false });
  await renderInTestApp(
    <TestApiProvider
      apis={[
        [labSchedulerApiRef, api],
        [catalogApiRef, catalogApiMock()],
      ]}
    >
      <InstrumentCalendar instrumentRef={instrumentRef} />
    </TestApiProvider>,
    {
      mountedRoutes: { '/lab-scheduler': rootRouteRef },
      routeEntries: [`/?date=${day}&view=day`],
    },
  );
}

describe('InstrumentCalendar', () => {
  it('draws runs whose blocks overlap side by side, each still a labelled link', async () => {
    await renderCalendar([
      run('07:01', 1, 1),
      run('07:02', 1, 2),
      run('07:03', 1, 3),
      run('12:00', 60, 4),
    ]);
    const blocks = await screen.findAllByTestId('calendar-entry');
    expect(blocks).toHaveLength(4);
    const [first, second, third, alone] = blocks;
    // The three one-minute runs are drawn 16 px high, so they overlap and share the column.
    expect([first, second, third, alone].map(lanePercents)).toEqual([
      [0, 33.33],
      [33.33, 33.33],
      [66.67, 33.33],
      [0, 100],
    ]);
    // Every block stays a focusable link to its task, named by its visible text first.
    expect(
      screen.getByRole('link', { name: /^07:02 Task 2, / }),
    ).toHaveAttribute(
      'href',
      '/lab-scheduler/tasks/00000000-0000-4000-8000-000000000002',
    );
    expect(blocks.every(b => b.tagName === 'A')).toBe(true);
    // Too narrow for its text, a block still says what it is under the pointer.
    expect(second.getAttribute('title')).toBe(
      second.getAttribute('aria-label'),
    );
  });

  it('makes the scrolling timeline a named, focusable region', async () => {
    await renderCalendar([run('09:00', 30, 1)]);
    await screen.findAllByTestId('calendar-entry');
    const region = screen.getByRole('region', { name: 'Calendar, scrollable' });
    expect(region).toHaveAttribute('tabindex', '0');
  });
});
