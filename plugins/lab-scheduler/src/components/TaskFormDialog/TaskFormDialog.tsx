import { useEffect, useMemo, useRef, useState } from 'react';
import {
  configApiRef,
  identityApiRef,
  useApi,
} from '@backstage/core-plugin-api';
import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { ResponseError } from '@backstage/errors';
import {
  catalogApiRef,
  EntityDisplayName,
} from '@backstage/plugin-catalog-react';
import {
  getSupportedMeasurementTypes,
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
  makeStyles,
  MenuItem,
  Radio,
  RadioGroup,
  TextField,
  Typography,
} from '@material-ui/core';
import { Alert } from '@material-ui/lab';
import useAsync from 'react-use/esm/useAsync';
import { labSchedulerApiRef } from '../../api';
import { ClashWarnings } from '../ClashWarnings';
import { SchedulePreview } from './SchedulePreview';
import {
  buildRequest,
  CRON_PRESETS,
  defaultParameters,
  emptyForm,
  formFromTask,
  presetExpression,
  TaskFormValues,
  toInstant,
} from './taskForm';
import {
  errorsByField,
  fieldLabel,
  FormErrors,
  requestErrorMessage,
} from './humanErrors';
import { ParameterFields } from './ParameterFields';
import { useMeasurementTypes } from './useMeasurementTypes';
import {
  MISFIRE_LABELS,
  NOTIFY_LABELS,
  OVERLAP_LABELS,
  POLICY_FIELD_LABELS,
} from '../policyLabels';

export interface TaskFormDialogProps {
  open: boolean;
  onClose: () => void;
  /** After a successful create (`created`) or save. */
  onSaved: (task: Task, created: boolean) => void;
  /** Edit this task; create a new one when absent. */
  task?: Task;
  /** Prefill the instrument (e.g. from its catalog page). */
  instrumentRef?: string;
}

const TIME_ZONES: string[] =
  typeof (Intl as any).supportedValuesOf === 'function'
    ? (Intl as any).supportedValuesOf('timeZone')
    : [];

const useStyles = makeStyles(theme => ({
  // The theme's error red (#f44336) is 3.68:1 on white: too faint for error text. The darker shade of the
  // same red passes 4.5:1; only this form's error text changes, not the theme.
  content: {
    '& .Mui-error, & .MuiTypography-colorError': {
      color:
        theme.palette.type === 'dark'
          ? theme.palette.error.light
          : theme.palette.error.dark,
    },
  },
}));

/** The id of the focusable element of a select (MUI puts the TextField id on a hidden input). */
const selectButtonId = (id: string) => `${id}-button`;

/** One menu item per value of a policy, with its label. */
const menuItems = (labels: Record<string, string>) =>
  Object.entries(labels).map(([value, label]) => (
    <MenuItem key={value} value={value}>
      {label}
    </MenuItem>
  ));

/**
 * Create or edit a measurement task. Validated with the shared schemas (the parameter form and its checks
 * come from the backend's descriptor of the measurement type); server errors are mapped to fields in plain
 * words; after a failed submit the errors are announced and focus moves to the first invalid field.
 */
export const TaskFormDialog = ({
  open,
  onClose,
  onSaved,
  task,
  instrumentRef,
}: TaskFormDialogProps) => {
  const api = useApi(labSchedulerApiRef);
  const catalogApi = useApi(catalogApiRef);
  const identityApi = useApi(identityApiRef);
  const config = useApi(configApiRef);
  const kind =
    config.getOptionalString('labScheduler.instruments.kind') ?? 'Resource';
  const type =
    config.getOptionalString('labScheduler.instruments.type') ?? 'instrument';
  const measurement = useMeasurementTypes();
  const descriptorOf = (t: string) => measurement.byType(t)?.parameterSchema;
  const typeTitle = (t: string) => measurement.byType(t)?.title ?? t;
  const [values, setValues] = useState<TaskFormValues>(() =>
    task ? formFromTask(task) : emptyForm(instrumentRef ?? ''),
  );
  const [errors, setErrors] = useState<FormErrors>({});
  const [saving, setSaving] = useState(false);
  const [advanced, setAdvanced] = useState(false);
  // Bumped on every failed submit: focus moves to the first invalid field once it has rendered.
  const [failedSubmits, setFailedSubmits] = useState(0);
  const contentRef = useRef<HTMLDivElement>(null);
  const classes = useStyles();

  // The version the form was filled from: a save names it, so a change made meanwhile answers 409.
  const [baseVersion, setBaseVersion] = useState(task?.version);

  // Filled when the form opens or is given another task — not when the page reloads the same task while
  // the form is open (live updates): that would throw away what the user has typed.
  useEffect(() => {
    if (open) {
      setValues(task ? formFromTask(task) : emptyForm(instrumentRef ?? ''));
      setErrors({});
      setAdvanced(false);
      setBaseVersion(task?.version);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open, task?.id, instrumentRef]);

  useEffect(() => {
    if (failedSubmits === 0) return;
    const invalid = contentRef.current?.querySelector<HTMLElement>(
      '[aria-invalid="true"]:not([aria-hidden="true"]):not([type="hidden"])',
    );
    invalid?.focus();
  }, [failedSubmits]);

  const instruments = useAsync(async () => {
    const filter: Record<string, string> = { kind };
    if (type) filter['spec.type'] = type;
    const { items } = await catalogApi.getEntities({ filter });
    return items;
  }, [catalogApi, kind, type]);

  const identity = useAsync(
    () => identityApi.getBackstageIdentity(),
    [identityApi],
  );
  // Whom a task may be given to: the signed-in user and their groups (what the server allows).
  const ownerChoices = useMemo(() => {
    const refs = identity.value
      ? [
          identity.value.userEntityRef,
          ...identity.value.ownershipEntityRefs.filter(
            r => parseEntityRef(r).kind.toLocaleLowerCase('en-US') === 'group',
          ),
        ]
      : [];
    if (values.owner && !refs.includes(values.owner)) refs.push(values.owner);
    return refs;
  }, [identity.value, values.owner]);

  const selected: Entity | undefined = instruments.value?.find(
    e => stringifyEntityRef(e) === values.instrumentRef,
  );
  const supported = selected ? getSupportedMeasurementTypes(selected) : [];
  const typeChoices =
    supported.length > 0 ? supported : measurement.types.map(t => t.type);

  // A prefilled instrument (the instrument card) gets its first supported measurement type once both the
  // catalog has answered and the form is open: the reset on opening would otherwise empty it again.
  useEffect(() => {
    if (open && selected && !values.measurementType && typeChoices[0]) {
      const first = typeChoices[0];
      setValues(v => ({
        ...v,
        measurementType: first,
        parameters: defaultParameters(first, descriptorOf),
      }));
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open, selected, values.measurementType]);

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
            : defaultParameters(measurementType, descriptorOf),
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
      return at ? { type: 'once', at, timezone: values.timezone } : undefined;
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

  const errorContext = {
    typeTitle,
    parameterSchema: descriptorOf(values.measurementType),
  };

  const fail = (next: FormErrors) => {
    setErrors(next);
    setFailedSubmits(n => n + 1);
  };

  const submit = async () => {
    const { body, errors: clientErrors } = buildRequest(values, Date.now(), {
      ...errorContext,
      descriptorOf,
    });
    if (!body) {
      fail(clientErrors);
      return;
    }
    setSaving(true);
    try {
      const saved = task
        ? await api.updateTask(task.id, baseVersion ?? task.version, body)
        : await api.createTask(body);
      onSaved(saved, !task);
      onClose();
    } catch (error) {
      const details = (error as ResponseError).body?.error as
        | { message?: string; details?: { path: string; message: string }[] }
        | undefined;
      const status = (error as ResponseError).statusCode;
      if (details?.details?.length) {
        fail(errorsByField(details.details, errorContext));
      } else if (status === 403 && details?.message?.startsWith('owner:')) {
        fail({
          owner:
            'You can give a task only to yourself or to one of your groups',
        });
      } else {
        fail({
          form: requestErrorMessage(
            error,
            task ? 'save this task' : 'create this task',
          ),
        });
      }
    } finally {
      setSaving(false);
    }
  };

  const field = (key: keyof TaskFormValues) => ({
    error: Boolean(errors[key]),
    helperText: errors[key],
    id: `lab-scheduler-${key}`,
    FormHelperTextProps: { id: `lab-scheduler-${key}-helper-text` },
  });

  // MUI gives a select's helper text to its hidden input: the focusable button must carry it (and the
  // invalid state) for a screen reader to read the error.
  const selectProps = (key: keyof TaskFormValues, hasHelper: boolean) => ({
    SelectDisplayProps: {
      id: selectButtonId(`lab-scheduler-${key}`),
      'aria-invalid': Boolean(errors[key]),
      ...(hasHelper
        ? { 'aria-describedby': `lab-scheduler-${key}-helper-text` }
        : {}),
    } as any,
  });

  // The three instants of a schedule, entered on the task's wall clock.
  const dateTimeField = (key: 'at' | 'startAt' | 'endAt', label: string) => (
    <TextField
      label={`${label} (${values.timezone})`}
      type="datetime-local"
      fullWidth
      InputLabelProps={{ shrink: true }}
      value={values[key]}
      onChange={e => set(key, e.target.value)}
      {...field(key)}
    />
  );

  const errorList = Object.entries(errors).filter(
    ([key, text]) => text && key !== 'form',
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
      <DialogContent dividers ref={contentRef} className={classes.content}>
        {(errors.form || errorList.length > 0) && (
          <Box mb={2}>
            <Alert severity="error" id="lab-scheduler-form-errors">
              {errors.form}
              {errorList.length > 0 && (
                <>
                  {errorList.length === 1
                    ? 'Check this field:'
                    : `Check these ${errorList.length} fields:`}
                  <ul style={{ margin: 0, paddingLeft: 20 }}>
                    {errorList.map(([key, text]) => (
                      <li key={key}>
                        {fieldLabel(key, errorContext)}: {text}
                      </li>
                    ))}
                  </ul>
                </>
              )}
            </Alert>
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
              SelectProps={selectProps(
                'instrumentRef',
                Boolean(errors.instrumentRef) || instruments.loading,
              )}
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
          <Grid item xs={12} md={6}>
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
              label="Owner"
              fullWidth
              value={values.owner}
              onChange={e => set('owner', e.target.value)}
              {...field('owner')}
              helperText={
                errors.owner ?? 'You or one of your groups: who may change it'
              }
              SelectProps={{
                displayEmpty: true,
                ...selectProps('owner', true),
              }}
              InputLabelProps={{ shrink: true }}
            >
              <MenuItem value="">Me</MenuItem>
              {ownerChoices.map(ref => (
                <MenuItem key={ref} value={ref}>
                  <EntityDisplayName entityRef={ref} disableTooltip />
                </MenuItem>
              ))}
            </TextField>
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
                set(
                  'parameters',
                  defaultParameters(e.target.value, descriptorOf),
                );
              }}
              {...field('measurementType')}
              helperText={
                errors.measurementType ??
                measurement.byType(values.measurementType)?.description
              }
              SelectProps={selectProps(
                'measurementType',
                Boolean(
                  errors.measurementType ||
                    measurement.byType(values.measurementType),
                ),
              )}
            >
              {typeChoices.map(t => (
                <MenuItem key={t} value={t}>
                  {typeTitle(t)}
                </MenuItem>
              ))}
            </TextField>
          </Grid>
          <ParameterFields
            schema={descriptorOf(values.measurementType)}
            json={values.parameters}
            errors={errors}
            advanced={advanced}
            onAdvancedChange={setAdvanced}
            onChange={(json, changedPath) => {
              setValues(v => ({ ...v, parameters: json }));
              setErrors(e => ({
                ...e,
                parameters: undefined,
                ...(changedPath
                  ? { [`parameters.${changedPath}`]: undefined }
                  : {}),
                form: undefined,
              }));
            }}
          />

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
                  SelectProps={selectProps('preset', false)}
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
                    label={`At (${values.timezone})`}
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
              helperText={errors.timezone ?? 'The times above are in this zone'}
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
              label={POLICY_FIELD_LABELS.misfire}
              fullWidth
              value={values.misfire}
              onChange={e =>
                set('misfire', e.target.value as TaskFormValues['misfire'])
              }
              {...field('misfire')}
              SelectProps={selectProps('misfire', Boolean(errors.misfire))}
            >
              {menuItems(MISFIRE_LABELS)}
            </TextField>
          </Grid>
          <Grid item xs={12} md={4}>
            <TextField
              select
              label={POLICY_FIELD_LABELS.overlap}
              fullWidth
              value={values.overlap}
              onChange={e =>
                set('overlap', e.target.value as TaskFormValues['overlap'])
              }
              {...field('overlap')}
              SelectProps={selectProps('overlap', Boolean(errors.overlap))}
            >
              {menuItems(OVERLAP_LABELS)}
            </TextField>
          </Grid>
          <Grid item xs={12} md={4}>
            <TextField
              select
              label={POLICY_FIELD_LABELS.notify}
              fullWidth
              value={values.notify}
              onChange={e =>
                set('notify', e.target.value as TaskFormValues['notify'])
              }
              {...field('notify')}
              SelectProps={selectProps('notify', Boolean(errors.notify))}
            >
              {menuItems(NOTIFY_LABELS)}
            </TextField>
          </Grid>
          <Grid item xs={12}>
            <Typography variant="subtitle2" component="h3">
              Next runs
            </Typography>
            <SchedulePreview schedule={previewSchedule} />
            <ClashWarnings
              schedule={previewSchedule}
              instrumentRef={values.instrumentRef}
              measurementType={values.measurementType}
              taskId={task?.id}
            />
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
