import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import { Run } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Button } from '@material-ui/core';
import { labSchedulerApiRef } from '../../api';

/** Opens a run's raw data (JSON) in a new tab, when the run stored any. */
export const RawDataButton = ({ run }: { run: Run }) => {
  const api = useApi(labSchedulerApiRef);
  const alertApi = useApi(alertApiRef);
  if (!(run.result as any)?.rawData) return null;
  return (
    <Button
      size="small"
      variant="outlined"
      style={{ whiteSpace: 'nowrap', flexShrink: 0 }}
      onClick={async () => {
        try {
          const blob = await api.getRawData(run.id);
          window.open(URL.createObjectURL(blob), '_blank');
        } catch (error) {
          alertApi.post({
            message: `Raw data unavailable: ${(error as Error).message}`,
            severity: 'error',
          });
        }
      }}
    >
      Raw data
    </Button>
  );
};
