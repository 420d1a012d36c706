import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import type { ClashReport } from '@lab-scheduler/plugin-lab-scheduler-common';
import { screen } from '@testing-library/react';
import { labSchedulerApiRef } from '../../api';
import { ClashWarnings, formatDuration } from './ClashWarnings';

jest.setTimeout(60_000);

const schedule = {
  type: 'cron' as const,
  expression: '1 10 * * *',
  timezone: 'UTC',
};

function apiAnswering(report: ClashReport) {
  const calls: unknown[] = [];
  return {
    calls,
    api: {
      async checkClashes(request: unknown) {
        calls.push(request);
        return report;
      },
    },
  };
}

const occurrence = (
  start: string,
  overCapacityMs: number,
  task: { id: string; name: string } | null,
) => ({
  start,
  end: start.replace('10:01', '10:06'),
  overCapacityMs,
  overlaps: overCapacityMs
    ? [
        {
          start: start.replace('10:01', '10:00'),
          end: start.replace('10:01', '10:03'),
          overlapMs: overCapacityMs,
          task,
        },
      ]
    : [],
});

async function render(report: ClashReport, draft = schedule) {
  const { api, calls } = apiAnswering(report);
  await renderInTestApp(
    <TestApiProvider apis={[[labSchedulerApiRef, api as any]]}>
      <ClashWarnings
        schedule={draft}
        instrumentRef="resource:default/plate-reader-1"
        measurementType="plate-od"
        taskId="00000000-0000-4000-8000-000000000009"
      />
    </TestApiProvider>,
  );
  return calls;
}

describe('ClashWarnings', () => {
  it('lists the clashing runs with what they overlap and for how long; another team’s run stays anonymous', async () => {
    const calls = await render({
      instrumentRef: 'resource:default/plate-reader-1',
      capacity: 1,
      durationMs: 300_000,
      occurrences: [
        occurrence('2030-01-01T10:01:00.000Z', 120_000, {
          id: '00000000-0000-4000-8000-000000000001',
          name: 'Morning blank',
        }),
        occurrence('2030-01-02T10:01:00.000Z', 120_000, null),
        occurrence('2030-01-03T10:01:00.000Z', 0, null),
      ],
    });
    expect(
      await screen.findByText(
        '2 of the next 3 runs clash on plate-reader-1 (1 run at a time)',
      ),
    ).toBeInTheDocument();
    const items = screen.getAllByRole('listitem').map(li => li.textContent);
    expect(items).toHaveLength(2);
    expect(items[0]).toContain('full for 2 min');
    expect(items[0]).toContain('“Morning blank”');
    expect(items[1]).toContain('a run of another team');
    expect(calls).toEqual([
      {
        schedule,
        instrumentRef: 'resource:default/plate-reader-1',
        measurementType: 'plate-od',
        taskId: '00000000-0000-4000-8000-000000000009',
        count: 5,
      },
    ]);
  });

  it('says so when nothing clashes', async () => {
    await render({
      instrumentRef: 'resource:default/plate-reader-1',
      capacity: 3,
      durationMs: 300_000,
      occurrences: [occurrence('2030-01-01T10:01:00.000Z', 0, null)],
    });
    expect(
      await screen.findByText(
        'No clash with other runs on plate-reader-1 (3 runs at a time).',
      ),
    ).toBeInTheDocument();
  });

  it('does not ask the server about a draft it would refuse', async () => {
    const report = {
      instrumentRef: 'resource:default/plate-reader-1',
      capacity: 1,
      durationMs: 300_000,
      occurrences: [],
    };
    const drafts = [
      { ...schedule, expression: '61 10 * * *' },
      { ...schedule, expression: 'every monday' },
      { ...schedule, timezone: 'Mars/Olympus' },
    ];
    for (const draft of drafts) {
      const calls = await render(report, draft);
      // Past the debounce: a valid draft is sent by now (the case above).
      await new Promise(resolve => setTimeout(resolve, 600));
      expect(calls).toEqual([]);
    }
    const calls = await render(report);
    await screen.findByText(/No clash with other runs/);
    expect(calls).toHaveLength(1);
  });

  it('formats durations for people', () => {
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(120_000)).toBe('2 min');
    expect(formatDuration(90 * 60_000)).toBe('1 h 30 min');
    expect(formatDuration(2 * 3600_000)).toBe('2 h');
  });
});
