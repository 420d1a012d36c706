import {
  MeasurementParameterSchema,
  ParameterDescriptor,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import {
  FormControlLabel,
  Grid,
  InputAdornment,
  MenuItem,
  Switch,
  TextField,
  Typography,
} from '@material-ui/core';
import { FormErrors } from './humanErrors';

/** The id of a parameter's input: where the form moves focus when it is invalid. */
export const parameterInputId = (path: string) =>
  `lab-scheduler-parameters-${path.replace(/\./g, '-')}`;

function parse(json: string): Record<string, any> | undefined {
  try {
    const value = JSON.parse(json || '{}');
    return value && typeof value === 'object' && !Array.isArray(value)
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}

/** The JSON with one parameter set (or removed, so its default applies). */
function withValue(
  json: string,
  path: string[],
  value: unknown,
): string | undefined {
  const parameters = parse(json);
  if (!parameters) return undefined;
  const [first, second] = path;
  const target =
    second === undefined
      ? parameters
      : (parameters[first] =
          parameters[first] && typeof parameters[first] === 'object'
            ? parameters[first]
            : {});
  const key = second ?? first;
  if (value === undefined) delete target[key];
  else target[key] = value;
  return JSON.stringify(parameters, null, 2);
}

const rangeHint = (field: ParameterDescriptor) =>
  field.kind === 'number'
    ? `${field.min}–${field.max}${field.unit ? ` ${field.unit}` : ''}`
    : undefined;

/**
 * A measurement type's parameters as a form made from its descriptor (labels, units, ranges, defaults,
 * help), QC thresholds in their own section, and the raw JSON behind an "advanced" switch. The JSON text is
 * the one state: the fields read and write it, so switching between the two never loses anything.
 */
export const ParameterFields = ({
  schema,
  json,
  onChange,
  errors,
  advanced,
  onAdvancedChange,
}: {
  schema: MeasurementParameterSchema | null | undefined;
  json: string;
  onChange: (json: string, changedPath?: string) => void;
  errors: FormErrors;
  advanced: boolean;
  onAdvancedChange: (advanced: boolean) => void;
}) => {
  const values = parse(json);
  const showJson = advanced || !schema || !values;

  const input = (field: ParameterDescriptor, path: string[]) => {
    const key = path.join('.');
    const error = errors[`parameters.${key}`];
    const id = parameterInputId(key);
    const current =
      path.length === 1 ? values?.[path[0]] : values?.[path[0]]?.[path[1]];
    const help = [field.help, rangeHint(field)].filter(Boolean).join(' · ');
    const common = {
      id,
      label: field.label,
      fullWidth: true,
      error: Boolean(error),
      helperText: error ?? (help || undefined),
      FormHelperTextProps: { id: `${id}-helper-text` },
    };
    if (field.kind === 'choice') {
      return (
        <TextField
          {...common}
          select
          value={current ?? field.default ?? ''}
          SelectProps={{
            SelectDisplayProps: {
              'aria-describedby': `${id}-helper-text`,
              'aria-invalid': Boolean(error),
            } as any,
          }}
          onChange={e => {
            const chosen = field.options.find(
              o => String(o.value) === String(e.target.value),
            );
            const next = withValue(json, path, chosen?.value);
            if (next !== undefined) onChange(next, key);
          }}
        >
          {field.options.map(o => (
            <MenuItem key={String(o.value)} value={o.value}>
              {o.label}
            </MenuItem>
          ))}
        </TextField>
      );
    }
    return (
      <TextField
        {...common}
        type={field.kind === 'number' ? 'number' : 'text'}
        value={current ?? ''}
        placeholder={
          field.kind === 'number' && field.default !== undefined
            ? String(field.default)
            : undefined
        }
        InputLabelProps={{ shrink: true }}
        InputProps={
          field.kind === 'number' && field.unit
            ? {
                endAdornment: (
                  <InputAdornment position="end">{field.unit}</InputAdornment>
                ),
              }
            : undefined
        }
        inputProps={
          field.kind === 'number'
            ? {
                min: field.min,
                max: field.max,
                step: field.integer ? 1 : 'any',
              }
            : { maxLength: field.maxLength }
        }
        onChange={e => {
          const text = e.target.value;
          let value: unknown = text === '' ? undefined : text;
          if (field.kind === 'number' && text !== '') {
            value = Number.isNaN(Number(text)) ? text : Number(text);
          }
          const next = withValue(json, path, value);
          if (next !== undefined) onChange(next, key);
        }}
      />
    );
  };

  return (
    <>
      <Grid item xs={12}>
        <FormControlLabel
          control={
            <Switch
              checked={showJson}
              disabled={!schema || !values}
              onChange={e => onAdvancedChange(e.target.checked)}
              color="primary"
            />
          }
          label="Edit parameters as JSON (advanced)"
        />
      </Grid>
      {showJson ? (
        <Grid item xs={12}>
          <TextField
            id="lab-scheduler-parameters"
            label="Parameters (JSON)"
            fullWidth
            multiline
            minRows={4}
            value={json}
            onChange={e => onChange(e.target.value)}
            error={Boolean(errors.parameters)}
            helperText={
              errors.parameters ??
              'Defaults of the measurement type; QC thresholds go under "qc".'
            }
            FormHelperTextProps={{ id: 'lab-scheduler-parameters-helper-text' }}
            inputProps={{ style: { fontFamily: 'monospace', fontSize: 12 } }}
          />
        </Grid>
      ) : (
        <>
          {errors.parameters && (
            <Grid item xs={12}>
              <Typography color="error" variant="body2" role="alert">
                Parameters: {errors.parameters}
              </Typography>
            </Grid>
          )}
          {schema!.parameters.map(field => (
            <Grid item xs={12} sm={6} md={4} key={field.name}>
              {input(field, [field.name])}
            </Grid>
          ))}
          {schema!.qc.length > 0 && (
            <Grid item xs={12}>
              <Typography variant="subtitle2" component="h3">
                Quality checks (optional)
              </Typography>
              <Typography variant="body2" color="textSecondary">
                A run whose result falls outside a threshold is marked as
                failing QC. Leave empty to skip a check.
              </Typography>
            </Grid>
          )}
          {schema!.qc.map(field => (
            <Grid item xs={12} sm={6} md={4} key={`qc.${field.name}`}>
              {input(field, ['qc', field.name])}
            </Grid>
          ))}
        </>
      )}
    </>
  );
};
