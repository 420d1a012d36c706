import {
  findParameter,
  MeasurementParameterSchema,
  ParameterDescriptor,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Typography } from '@material-ui/core';
import { formatNumber } from '../runFormat';

/** A parameter's value as the form shows it: with its unit, or by its choice's label. */
function formatValue(
  descriptor: ParameterDescriptor | undefined,
  value: unknown,
): string {
  if (descriptor?.kind === 'choice')
    return (
      descriptor.options.find(o => o.value === value)?.label ?? String(value)
    );
  if (descriptor?.kind === 'number' && typeof value === 'number')
    return `${formatNumber(value)}${
      descriptor.unit ? ` ${descriptor.unit}` : ''
    }`;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * A task's measurement parameters as labelled values with units ("Start wavelength: 230 nm"), then its QC
 * thresholds, from the measurement type's parameter descriptors; a parameter the type does not describe
 * (or a type without descriptors) shows by its key.
 */
export const MeasurementParameters = ({
  parameters,
  schema,
}: {
  parameters: Record<string, unknown>;
  schema: MeasurementParameterSchema | null | undefined;
}) => {
  const line = (path: string, value: unknown) => {
    const descriptor = schema ? findParameter(schema, path) : undefined;
    return (
      <Typography key={path} variant="body2" component="div">
        {descriptor?.label ?? path}: {formatValue(descriptor, value)}
      </Typography>
    );
  };
  const { qc, ...settings } = parameters;
  const thresholds =
    qc && typeof qc === 'object' ? Object.entries(qc as object) : [];
  const settingEntries = Object.entries(settings);
  return (
    <>
      {settingEntries.map(([key, value]) => line(key, value))}
      {settingEntries.length === 0 && thresholds.length === 0 && (
        <Typography variant="body2">The type's defaults</Typography>
      )}
      {thresholds.length > 0 && (
        <>
          <Typography variant="subtitle2" component="div">
            QC thresholds
          </Typography>
          {thresholds.map(([key, value]) => line(`qc.${key}`, value))}
        </>
      )}
    </>
  );
};
