import { useApi } from '@backstage/core-plugin-api';
import { measurementTypes } from '@lab-scheduler/plugin-lab-scheduler-common';
import useAsync from 'react-use/esm/useAsync';
import { labSchedulerApiRef, MeasurementTypeInfo } from '../../api';

const builtIn: MeasurementTypeInfo[] = Object.values(measurementTypes).map(
  d => ({
    type: d.type,
    title: d.title,
    description: d.description,
    parameterSchema: d.parameterSchema ?? null,
  }),
);

/**
 * The measurement types the backend runs (`GET /measurement-types`), with their parameter descriptors:
 * a type registered in the backend gets its form without a new UI build. Until the backend answers (or
 * when it cannot), the types this UI was built with.
 */
export function useMeasurementTypes(): {
  types: MeasurementTypeInfo[];
  byType: (type: string) => MeasurementTypeInfo | undefined;
  fromBackend: boolean;
} {
  const api = useApi(labSchedulerApiRef);
  const { value } = useAsync(() => api.listMeasurementTypes(), [api]);
  const types = value?.items ?? builtIn;
  return {
    types,
    byType: type => types.find(t => t.type === type),
    fromBackend: Boolean(value),
  };
}
