import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { labSchedulerApiRef } from '../../api';
import { recentResult as result } from '../RecentResults/recentResultFixture';
import { RunExportButtons, TaskExportButtons } from './ExportButtons';

jest.setTimeout(60_000);

describe('ExportButtons', () => {
  it('downloads a run as CSV and a task history as JSON, under their file names', async () => {
    const api = {
      exportRunRawData: jest.fn(async () => new Blob(['a,b\r\n'])),
      exportTaskRuns: jest.fn(async () => new Blob(['[]'])),
    };
    const saved: string[] = [];
    (URL as any).createObjectURL = jest.fn(() => 'blob:x');
    (URL as any).revokeObjectURL = jest.fn();
    const click = jest
      .spyOn(HTMLAnchorElement.prototype, 'click')
      .mockImplementation(function recordDownload(this: HTMLAnchorElement) {
        saved.push(this.download);
      });
    await renderInTestApp(
      <TestApiProvider apis={[[labSchedulerApiRef, api]]}>
        <RunExportButtons run={result(1).run} />
        <RunExportButtons run={{ ...result(2).run, result: null }} />
        <TaskExportButtons taskId="t-1" />
      </TestApiProvider>,
    );
    // The run without raw data offers no download.
    expect(
      screen.getAllByRole('button', { name: /Download raw data as/ }),
    ).toHaveLength(2);
    fireEvent.click(
      screen.getByRole('button', { name: 'Download raw data as CSV' }),
    );
    fireEvent.click(
      screen.getByRole('button', { name: 'Download run history as JSON' }),
    );
    await waitFor(() => expect(saved).toHaveLength(2));
    expect(api.exportRunRawData).toHaveBeenCalledWith(result(1).run.id, 'csv');
    expect(api.exportTaskRuns).toHaveBeenCalledWith('t-1', 'json');
    expect(saved).toEqual([
      `run-${result(1).run.id}.csv`,
      'task-t-1-runs.json',
    ]);
    click.mockRestore();
  });
});
