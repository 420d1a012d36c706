import { useState } from 'react';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import { ExportFormat, Run } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Button, ButtonGroup } from '@material-ui/core';
import GetAppIcon from '@material-ui/icons/GetApp';
import { labSchedulerApiRef } from '../../api';

/** Hands a downloaded file to the browser under `fileName`. */
function saveFile(blob: Blob, fileName: string) {
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = fileName;
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  // The click has started the download; the object URL is no longer needed.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

const DownloadButtons = ({
  label,
  fileName,
  download,
}: {
  label: string;
  fileName: (format: ExportFormat) => string;
  download: (format: ExportFormat) => Promise<Blob>;
}) => {
  const alertApi = useApi(alertApiRef);
  const [busy, setBusy] = useState<ExportFormat>();
  const save = async (format: ExportFormat) => {
    setBusy(format);
    try {
      saveFile(await download(format), fileName(format));
    } catch (error) {
      alertApi.post({
        message: `${label} unavailable: ${(error as Error).message}`,
        severity: 'error',
      });
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <ButtonGroup size="small" variant="outlined" aria-label={label}>
      {(['csv', 'json'] as const).map(format => (
        <Button
          key={format}
          startIcon={<GetAppIcon />}
          disabled={busy !== undefined}
          onClick={() => save(format)}
          aria-label={`${label} as ${format.toUpperCase()}`}
          style={{ whiteSpace: 'nowrap' }}
        >
          {format.toUpperCase()}
        </Button>
      ))}
    </ButtonGroup>
  );
};

/** Downloads of a run's raw data, one row per data point (CSV) or as stored (JSON); nothing without raw data. */
export const RunExportButtons = ({ run }: { run: Run }) => {
  const api = useApi(labSchedulerApiRef);
  if (!(run.result as any)?.rawData) return null;
  return (
    <DownloadButtons
      label="Download raw data"
      fileName={format => `run-${run.id}.${format}`}
      download={format => api.exportRunRawData(run.id, format)}
    />
  );
};

/** Downloads of a task's whole run history (CSV or JSON). */
export const TaskExportButtons = ({ taskId }: { taskId: string }) => {
  const api = useApi(labSchedulerApiRef);
  return (
    <DownloadButtons
      label="Download run history"
      fileName={format => `task-${taskId}-runs.${format}`}
      download={format => api.exportTaskRuns(taskId, format)}
    />
  );
};
