import { useEffect, useMemo, useState } from 'react';
import { configApiRef, useApi } from '@backstage/core-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { ResponseError } from '@backstage/errors';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import {
  getSupportedMeasurementTypes,
  measurementTypes,
  MEASUREMENT_TYPES,
  Task,
  TaskSchedule,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import {
  Box,
  Button,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  FormControlLabel,
  Grid,
  MenuItem,
  Radio,
  RadioGroup,
  TextField,
  Typography,
} from '@material-ui/core';
import { Alert } from '@material-ui/lab';
import useAsync from 'react-use/esm/useAsync';
import { labSchedulerApiRef } from '../../api';
import { SchedulePreview } from './SchedulePreview';
import {
  buildRequest,
  CRON_PRESETS,
  defaultParameters,
  emptyForm,
  errorsByField,
  FormErrors,
  formFromTask,
  presetExpression,
  TaskFormValues,
  toInstant,
} from './taskForm';

export interface TaskFormDialogProps {
  open: boolean;
  onClose: () => void;
  onSaved: (task: Task) => void;
  /** Edit this task; create a new one when absent. */
  task?: Task;
  /** Prefill the instrument (e.g. from its catalog page). */
  instrumentRef?: string;
}

const TIME_ZONES: string[] =
  typeof (Intl as any).supportedValuesOf === 'function'
    ? (Intl as any).supportedValuesOf('timeZone')
    : [];

/** Create or edit a measurement task; validated with the shared schemas, server errors mapped to fields. */
export const TaskFormDialog = ({
  open,
  onClose,
  onSaved,
  task,
  instrumentRef,
}: TaskFormDialogProps) => {
  const api = useApi(labSchedulerApiRef);
  const catalogApi = useApi(catalogApiRef);
  const config = useApi(configApiRef);
  const kind =
    config.getOptionalString('labScheduler.instruments.kind') ?? 'Resource';
  const type =
    config.getOptionalString('labScheduler.instruments.type') ?? 'instrument';
  const [values, setValues] = useState<TaskFormValues>(() =>
    task ? formFromTask(task) : emptyForm(instrumentRef ?? ''),
  );
  const [errors, setErrors] = useState<FormErrors>({});
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    if (open) {
      setValues(task ? formFromTask(task) : emptyForm(instrumentRef ?? ''));
      setErrors({});
    }
  }, [open, task, instrumentRef]);

  const instruments = useAsync(async () => {
    const filter: Record<string, string> = { kind };
    if (type) filter['spec.type'] = type;
    const { items } = await catalogApi.getEntities({ filter });
    return items;
  }, [catalogApi, kind, type]);

  const selected: Entity | undefined = instruments.value?.find(
    e => stringifyEntityRef(e) === values.instrumentRef,
  );
  const supported = selected ? getSupportedMeasurementTypes(selected) : [];
  const typeChoices = supported.length > 0 ? supported : MEASUREMENT_TYPES;

  // A prefilled instrument gets its first supported measurement type once the catalog answers.
  useEffect(() => {
    if (selected && !values.measurementType) {
      const first = typeChoices[0];
      setValues(v => ({
        ...v,
        measurementType: first,
        parameters: defaultParameters(first),
      }));
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selected]);

  const set = <K extends keyof TaskFormValues>(
    key: K,
    value: TaskFormValues[K],
  ) => {
    setValues(v => ({ ...v, [key]: value }));
    setErrors(e => ({ ...e, [key]: undefined, form: undefined }));
  };

  // Picking an instrument narrows the measurement types; picking a type fills its default parameters.
  const chooseInstrument = (ref: string) => {
    const entity = instruments.value?.find(e => stringifyEntityRef(e) === ref);
    const types = entity ? getSupportedMeasurementTypes(entity) : [];
    setValues(v => {
      const keep = types.length === 0 || types.includes(v.measurementType);
      const measurementType = keep ? v.measurementType : types[0];
      return {
        ...v,
        instrumentRef: ref,
        measurementType,
        parameters:
          keep && v.measurementType
            ? v.parameters
            : defaultParameters(measurementType),
      };
    });
    setErrors(e => ({
      ...e,
      instrumentRef: undefined,
      measurementType: undefined,
    }));
  };

  const previewSchedule: TaskSchedule | undefined = useMemo(() => {
    if (values.scheduleType === 'once') {
      const at = toInstant(values.at, values.timezone);
      return at ? { type: 'once', at } : undefined;
    }
    return {
      type: 'cron',
      expression: presetExpression(
        values.preset,
        values.timeOfDay,
        values.expression,
      ),
      timezone: values.timezone,
      startAt: toInstant(values.startAt, values.timezone),
      endAt: toInstant(values.endAt, values.timezone),
    };
  }, [values]);

  const submit = async () => {
    const { body, errors: clientErrors } = buildRequest(values);
    if (!body) {
      setErrors(clientErrors);
      return;
    }
    setSaving(true);
    try {
      const saved = task
        ? await api.updateTask(task.id, task.version, body)
        : await api.createTask(body);
      onSaved(saved);
      onClose();
    } catch (error) {
      const details = (error as ResponseError).body?.error as any;
      if (details?.details) setErrors(errorsByField(details.details));
      else setErrors({ form: (error as Error).message });
    } finally {
      setSaving(false);
    }
  };

  const field = (key: keyof TaskFormValues) => ({
    error: Boolean(errors[key]),
    helperText: errors[key],
    id: `lab-scheduler-${key}`,
  });

  // The three instants of a schedule, entered on the task's wall clock.
  const dateTimeField = (key: 'at' | 'startAt' | 'endAt', label: string) => (
    <TextField
      label={label}
      type="datetime-local"
      fullWidth
      InputLabelProps={{ shrink: true }}
      value={values[key]}
      onChange={e => set(key, e.target.value)}
      {...field(key)}
    />
  );

  return (
    <Dialog
      open={open}
      onClose={onClose}
      maxWidth="md"
      fullWidth
      aria-labelledby="lab-scheduler-form-title"
    >
      <DialogTitle id="lab-scheduler-form-title">
        {task ? `Edit “${task.name}”` : 'Schedule a measurement'}
      </DialogTitle>
      <DialogContent dividers>
        {errors.form && (
          <Box mb={2}>
            <Alert severity="error">{errors.form}</Alert>
          </Box>
        )}
        <Grid container spacing={2}>
          <Grid item xs={12} md={6}>
            <TextField
              label="Name"
              required
              fullWidth
              value={values.name}
              onChange={e => set('name', e.target.value)}
              {...field('name')}
            />
          </Grid>
          <Grid item xs={12} md={6}>
            <TextField
              select
              label="Instrument"
              required
              fullWidth
              value={values.instrumentRef}
              onChange={e => chooseInstrument(e.target.value)}
              {...field('instrumentRef')}
              helperText={
                errors.instrumentRef ??
                (instruments.loading ? 'Loading instruments…' : undefined)
              }
            >
              {(instruments.value ?? []).map(e => (
                <MenuItem
                  key={stringifyEntityRef(e)}
                  value={stringifyEntityRef(e)}
                >
                  {e.metadata.title ?? e.metadata.name}
                </MenuItem>
              ))}
              {values.instrumentRef && !selected && (
                <MenuItem value={values.instrumentRef}>
                  {values.instrumentRef}
                </MenuItem>
              )}
            </TextField>
          </Grid>
          <Grid item xs={12}>
            <TextField
              label="Description"
              fullWidth
              multiline
              minRows={2}
              value={values.description}
              onChange={e => set('description', e.target.value)}
              {...field('description')}
            />
          </Grid>
          <Grid item xs={12} md={6}>
            <TextField
              select
              label="Measurement type"
              required
              fullWidth
              value={values.measurementType}
              onChange={e => {
                set('measurementType', e.target.value);
                set('parameters', defaultParameters(e.target.value));
              }}
              {...field('measurementType')}
            >
              {typeChoices.map(t => (
                <MenuItem key={t} value={t}>
                  {measurementTypes[t]?.title ?? t}
                </MenuItem>
              ))}
            </TextField>
          </Grid>
          <Grid item xs={12} md={6}>
            <TextField
              label="Parameters (JSON)"
              fullWidth
              multiline
              minRows={3}
              value={values.parameters}
              onChange={e => set('parameters', e.target.value)}
              {...field('parameters')}
              helperText={
                errors.parameters ??
                'Defaults of the measurement type; QC thresholds go under "qc".'
              }
              inputProps={{ style: { fontFamily: 'monospace', fontSize: 12 } }}
            />
          </Grid>

          <Grid item xs={12}>
            <Typography variant="subtitle1" component="h3">
              Schedule
            </Typography>
            <RadioGroup
              row
              aria-label="Schedule type"
              value={values.scheduleType}
              onChange={e =>
                set('scheduleType', e.target.value as 'once' | 'cron')
              }
            >
              <FormControlLabel
                value="cron"
                control={<Radio />}
                label="Recurring"
              />
              <FormControlLabel value="once" control={<Radio />} label="Once" />
            </RadioGroup>
          </Grid>
          {values.scheduleType === 'once' ? (
            <Grid item xs={12} md={6}>
              {dateTimeField('at', 'Date and time')}
            </Grid>
          ) : (
            <>
              <Grid item xs={12} md={4}>
                <TextField
                  select
                  label="Repeat"
                  fullWidth
                  value={values.preset}
                  onChange={e => {
                    const preset = e.target.value as TaskFormValues['preset'];
                    set('preset', preset);
                    if (preset !== 'custom') {
                      set(
                        'expression',
                        presetExpression(
                          preset,
                          values.timeOfDay,
                          values.expression,
                        ),
                      );
                    }
                  }}
                  id="lab-scheduler-preset"
                >
                  {CRON_PRESETS.map(p => (
                    <MenuItem key={p.value} value={p.value}>
                      {p.label}
                    </MenuItem>
                  ))}
                </TextField>
              </Grid>
              {(values.preset === 'daily' || values.preset === 'weekdays') && (
                <Grid item xs={12} md={4}>
                  <TextField
                    label="At"
                    type="time"
                    fullWidth
                    InputLabelProps={{ shrink: true }}
                    value={values.timeOfDay}
                    onChange={e => {
                      set('timeOfDay', e.target.value);
                      set(
                        'expression',
                        presetExpression(
                          values.preset,
                          e.target.value,
                          values.expression,
                        ),
                      );
                    }}
                    id="lab-scheduler-timeOfDay"
                  />
                </Grid>
              )}
              <Grid item xs={12} md={4}>
                <TextField
                  label="Cron expression"
                  fullWidth
                  value={presetExpression(
                    values.preset,
                    values.timeOfDay,
                    values.expression,
                  )}
                  onChange={e => {
                    setValues(v => ({
                      ...v,
                      preset: 'custom',
                      expression: e.target.value,
                    }));
                    setErrors(er => ({ ...er, expression: undefined }));
                  }}
                  {...field('expression')}
                  helperText={
                    errors.expression ??
                    'minute hour day-of-month month day-of-week'
                  }
                  inputProps={{ style: { fontFamily: 'monospace' } }}
                />
              </Grid>
              <Grid item xs={12} md={4}>
                {dateTimeField('startAt', 'Starts (optional)')}
              </Grid>
              <Grid item xs={12} md={4}>
                {dateTimeField('endAt', 'Ends (optional)')}
              </Grid>
            </>
          )}
          <Grid item xs={12} md={4}>
            <TextField
              label="Time zone"
              fullWidth
              value={values.timezone}
              onChange={e => set('timezone', e.target.value)}
              {...field('timezone')}
              inputProps={{ list: 'lab-scheduler-time-zones' }}
            />
            <datalist id="lab-scheduler-time-zones">
              {TIME_ZONES.map(z => (
                <option key={z} value={z} />
              ))}
            </datalist>
          </Grid>
          <Grid item xs={12} md={4}>
            <TextField
              select
              label="After downtime (misfire)"
              fullWidth
              value={values.misfire}
              onChange={e =>
                set('misfire', e.target.value as TaskFormValues['misfire'])
              }
              {...field('misfire')}
            >
              <MenuItem value="run_once">Run once now</MenuItem>
              <MenuItem value="run_all">Run every missed occurrence</MenuItem>
              <MenuItem value="skip">Skip to the next occurrence</MenuItem>
            </TextField>
          </Grid>
          <Grid item xs={12} md={4}>
            <TextField
              select
              label="If still running (overlap)"
              fullWidth
              value={values.overlap}
              onChange={e =>
                set('overlap', e.target.value as TaskFormValues['overlap'])
              }
              {...field('overlap')}
            >
              <MenuItem value="skip">Skip this occurrence</MenuItem>
              <MenuItem value="allow">Run anyway</MenuItem>
            </TextField>
          </Grid>
          <Grid item xs={12}>
            <Typography variant="subtitle2" component="h3">
              Next runs
            </Typography>
            <SchedulePreview schedule={previewSchedule} />
          </Grid>
        </Grid>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Cancel</Button>
        <Button
          color="primary"
          variant="contained"
          onClick={submit}
          disabled={saving}
        >
          {task ? 'Save' : 'Create'}
        </Button>
      </DialogActions>
    </Dialog>
  );
};
