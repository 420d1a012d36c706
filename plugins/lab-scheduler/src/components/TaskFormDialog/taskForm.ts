import {
  createTaskRequestSchema,
  DEFAULT_TASK_POLICIES,
  defaultParameterValues,
  MeasurementParameterSchema,
  measurementTypes,
  parameterSchema,
  Task,
  TaskPolicies,
  toFieldErrors,
  validateScheduleTiming,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { DateTime } from 'luxon';
import type { CreateTaskInput } from '../../api';
import { ErrorContext, errorsByField, FormErrors } from './humanErrors';

export type { FormErrors } from './humanErrors';

/** What the create/edit form holds: strings as typed, converted on submit. */
export interface TaskFormValues {
  name: string;
  description: string;
  instrumentRef: string;
  /** A user or group ref; empty: the signed-in user. */
  owner: string;
  measurementType: string;
  /** The parameters as JSON text: what the advanced editor shows, and what the generated fields edit. */
  parameters: string;
  scheduleType: 'once' | 'cron';
  /** One-time: local date-time (yyyy-MM-ddTHH:mm) in `timezone`. */
  at: string;
  preset: CronPreset;
  /** Time of day for the daily/weekday presets, HH:mm. */
  timeOfDay: string;
  expression: string;
  timezone: string;
  startAt: string;
  endAt: string;
  misfire: TaskPolicies['misfire'];
  overlap: TaskPolicies['overlap'];
  /** Notifications to the owner when runs finish. */
  notify: NonNullable<TaskPolicies['notify']>;
}

export type CronPreset = 'hourly' | 'daily' | 'weekdays' | 'custom';

export const CRON_PRESETS: { value: CronPreset; label: string }[] = [
  { value: 'hourly', label: 'Every hour' },
  { value: 'daily', label: 'Every day at…' },
  { value: 'weekdays', label: 'Weekdays (Mon–Fri) at…' },
  { value: 'custom', label: 'Custom cron expression' },
];

/** The cron expression a preset stands for. */
export function presetExpression(
  preset: CronPreset,
  timeOfDay: string,
  custom: string,
): string {
  const [h, m] = (timeOfDay || '09:00').split(':').map(n => Number(n) || 0);
  switch (preset) {
    case 'hourly':
      return '0 * * * *';
    case 'daily':
      return `${m} ${h} * * *`;
    case 'weekdays':
      return `${m} ${h} * * 1-5`;
    default:
      return custom;
  }
}

/**
 * The preset (and time of day) a cron expression stands for, when it is exactly what `presetExpression`
 * writes for one; otherwise `custom`. A task created as "Weekdays at 08:30" opens for editing as that.
 */
export function presetOf(expression: string): {
  preset: CronPreset;
  timeOfDay?: string;
} {
  if (expression === '0 * * * *') return { preset: 'hourly' };
  const match = /^(\d{1,2}) (\d{1,2}) \* \* (\*|1-5)$/.exec(expression);
  if (match) {
    const [minute, hour] = [Number(match[1]), Number(match[2])];
    const timeOfDay = `${String(hour).padStart(2, '0')}:${String(
      minute,
    ).padStart(2, '0')}`;
    const preset = match[3] === '*' ? 'daily' : 'weekdays';
    if (
      minute < 60 &&
      hour < 24 &&
      presetExpression(preset, timeOfDay, '') === expression
    )
      return { preset, timeOfDay };
  }
  return { preset: 'custom' };
}

export function browserTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The parameter descriptor of a type: the backend's when it gave one, else the built-in one. */
export type DescriptorLookup = (
  type: string,
) => MeasurementParameterSchema | null | undefined;

export const builtInDescriptor: DescriptorLookup = type =>
  Object.hasOwn(measurementTypes, type)
    ? measurementTypes[type].parameterSchema
    : undefined;

export function defaultParameters(
  type: string,
  descriptorOf: DescriptorLookup = builtInDescriptor,
): string {
  const descriptor = descriptorOf(type);
  if (descriptor)
    return JSON.stringify(defaultParameterValues(descriptor), null, 2);
  const definition = Object.hasOwn(measurementTypes, type)
    ? measurementTypes[type]
    : undefined;
  if (!definition) return '{}';
  return JSON.stringify(definition.parameters.parse({}), null, 2);
}

export function emptyForm(
  instrumentRef = '',
  measurementType = '',
): TaskFormValues {
  const zone = browserTimeZone();
  return {
    name: '',
    description: '',
    instrumentRef,
    owner: '',
    measurementType,
    parameters: measurementType ? defaultParameters(measurementType) : '{}',
    scheduleType: 'cron',
    at: DateTime.now()
      .setZone(zone)
      .plus({ hours: 1 })
      .startOf('hour')
      .toFormat("yyyy-LL-dd'T'HH:mm"),
    preset: 'weekdays',
    timeOfDay: '09:00',
    expression: '0 9 * * 1-5',
    timezone: zone,
    startAt: '',
    endAt: '',
    misfire: DEFAULT_TASK_POLICIES.misfire,
    overlap: DEFAULT_TASK_POLICIES.overlap,
    notify: DEFAULT_TASK_POLICIES.notify ?? 'failures',
  };
}

const localInput = (iso: string | undefined, zone: string) =>
  iso ? DateTime.fromISO(iso).setZone(zone).toFormat("yyyy-LL-dd'T'HH:mm") : '';

/** The form filled from an existing task (edit). */
export function formFromTask(task: Task): TaskFormValues {
  const zone = task.schedule.timezone ?? browserTimeZone();
  const base = emptyForm(task.instrumentRef, task.measurement.type);
  return {
    ...base,
    owner: task.owner,
    name: task.name,
    description: task.description,
    parameters: JSON.stringify(task.measurement.parameters, null, 2),
    scheduleType: task.schedule.type,
    timezone: zone,
    at:
      task.schedule.type === 'once'
        ? localInput(task.schedule.at, zone)
        : base.at,
    ...(task.schedule.type === 'cron'
      ? presetOf(task.schedule.expression)
      : { preset: 'custom' as const }),
    expression:
      task.schedule.type === 'cron'
        ? task.schedule.expression
        : base.expression,
    startAt:
      task.schedule.type === 'cron'
        ? localInput(task.schedule.startAt, zone)
        : '',
    endAt:
      task.schedule.type === 'cron'
        ? localInput(task.schedule.endAt, zone)
        : '',
    misfire: task.policies.misfire,
    overlap: task.policies.overlap,
    notify: task.policies.notify ?? 'failures',
  };
}

/** A wall-clock input in `zone` as an ISO instant (or undefined for empty / invalid input). */
export function toInstant(local: string, zone: string): string | undefined {
  if (!local) return undefined;
  const value = DateTime.fromISO(local, { zone });
  return value.isValid ? value.toUTC().toISO()! : undefined;
}

/**
 * Builds the request body and validates it with the same shared schema the server uses.
 * Returns the body, or the errors by field.
 */
export function buildRequest(
  values: TaskFormValues,
  nowMs = Date.now(),
  context: ErrorContext & { descriptorOf?: DescriptorLookup } = {
    typeTitle: t => measurementTypes[t]?.title ?? t,
  },
): { body?: CreateTaskInput; errors: FormErrors } {
  let parameters: unknown;
  try {
    parameters = JSON.parse(values.parameters || '{}');
  } catch {
    return { errors: { parameters: 'is not valid JSON' } };
  }
  const zone = values.timezone;
  const schedule =
    values.scheduleType === 'once'
      ? {
          type: 'once' as const,
          at: toInstant(values.at, zone) ?? values.at,
          timezone: zone,
        }
      : {
          type: 'cron' as const,
          expression: presetExpression(
            values.preset,
            values.timeOfDay,
            values.expression,
          ),
          timezone: zone,
          ...(values.startAt
            ? { startAt: toInstant(values.startAt, zone) ?? values.startAt }
            : {}),
          ...(values.endAt
            ? { endAt: toInstant(values.endAt, zone) ?? values.endAt }
            : {}),
        };
  const candidate = {
    name: values.name,
    ...(values.description ? { description: values.description } : {}),
    instrumentRef: values.instrumentRef,
    ...(values.owner ? { owner: values.owner } : {}),
    measurement: { type: values.measurementType, parameters },
    schedule,
    policies: {
      misfire: values.misfire,
      overlap: values.overlap,
      notify: values.notify,
    },
  };
  const descriptor = (context.descriptorOf ?? builtInDescriptor)(
    values.measurementType,
  );
  const errorContext = { ...context, parameterSchema: descriptor };
  const parsed = createTaskRequestSchema.safeParse(candidate);
  let fieldErrors = parsed.success ? [] : toFieldErrors(parsed.error);
  // A type this UI was not built with (registered in the backend) is checked with the backend's descriptor.
  if (
    descriptor &&
    !Object.hasOwn(measurementTypes, values.measurementType) &&
    values.measurementType
  ) {
    fieldErrors = fieldErrors.filter(e => !e.path.startsWith('measurement'));
    const own = parameterSchema(descriptor).safeParse(parameters);
    if (!own.success) {
      fieldErrors.push(
        ...toFieldErrors(own.error).map(e => ({
          path: `measurement.parameters.${e.path}`,
          message: e.message,
        })),
      );
    }
  }
  if (fieldErrors.length > 0)
    return { errors: errorsByField(fieldErrors, errorContext) };
  const timing = validateScheduleTiming(
    candidate.schedule as Parameters<typeof validateScheduleTiming>[0],
    nowMs,
  );
  if (timing.length > 0) return { errors: errorsByField(timing, errorContext) };
  return { body: candidate as CreateTaskInput, errors: {} };
}
