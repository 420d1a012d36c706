import {
  createTaskRequestSchema,
  DEFAULT_TASK_POLICIES,
  FieldError,
  measurementTypes,
  Task,
  TaskPolicies,
  toFieldErrors,
  validateScheduleTiming,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { DateTime } from 'luxon';
import type { CreateTaskInput } from '../../api';

/** What the create/edit form holds: strings as typed, converted on submit. */
export interface TaskFormValues {
  name: string;
  description: string;
  instrumentRef: string;
  measurementType: string;
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

export function browserTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function defaultParameters(type: string): string {
  const definition = measurementTypes[type];
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
  };
}

const localInput = (iso: string | undefined, zone: string) =>
  iso ? DateTime.fromISO(iso).setZone(zone).toFormat("yyyy-LL-dd'T'HH:mm") : '';

/** The form filled from an existing task (edit). */
export function formFromTask(task: Task): TaskFormValues {
  const zone =
    task.schedule.type === 'cron' ? task.schedule.timezone : browserTimeZone();
  const base = emptyForm(task.instrumentRef, task.measurement.type);
  return {
    ...base,
    name: task.name,
    description: task.description,
    parameters: JSON.stringify(task.measurement.parameters, null, 2),
    scheduleType: task.schedule.type,
    timezone: zone,
    at:
      task.schedule.type === 'once'
        ? localInput(task.schedule.at, zone)
        : base.at,
    preset: 'custom',
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
  };
}

/** A wall-clock input in `zone` as an ISO instant (or undefined for empty / invalid input). */
export function toInstant(local: string, zone: string): string | undefined {
  if (!local) return undefined;
  const value = DateTime.fromISO(local, { zone });
  return value.isValid ? value.toUTC().toISO()! : undefined;
}

/** Which form field shows an error for an API path such as `schedule.expression`. */
export function fieldForPath(path: string): keyof TaskFormValues | 'form' {
  if (path.startsWith('measurement.parameters')) return 'parameters';
  if (path === 'measurement.type' || path === 'measurement')
    return 'measurementType';
  if (path === 'schedule.at') return 'at';
  if (path === 'schedule.expression') return 'expression';
  if (path === 'schedule.timezone') return 'timezone';
  if (path === 'schedule.startAt') return 'startAt';
  if (path === 'schedule.endAt') return 'endAt';
  if (path.startsWith('policies.misfire')) return 'misfire';
  if (path.startsWith('policies.overlap')) return 'overlap';
  if (['name', 'description', 'instrumentRef'].includes(path))
    return path as keyof TaskFormValues;
  return 'form';
}

export type FormErrors = Partial<Record<keyof TaskFormValues | 'form', string>>;

/** Maps field errors (client- or server-side) onto the form's fields. */
export function errorsByField(errors: FieldError[]): FormErrors {
  const result: FormErrors = {};
  for (const error of errors) {
    const field = fieldForPath(error.path);
    const text =
      field === 'form' || field === 'parameters'
        ? `${error.path} ${error.message}`
        : error.message;
    result[field] = result[field] ? `${result[field]}; ${text}` : text;
  }
  return result;
}

/**
 * Builds the request body and validates it with the same shared schema the server uses.
 * Returns the body, or the errors by field.
 */
export function buildRequest(
  values: TaskFormValues,
  nowMs = Date.now(),
): { body?: CreateTaskInput; errors: FormErrors } {
  let parameters: unknown;
  try {
    parameters = JSON.parse(values.parameters || '{}');
  } catch {
    return { errors: { parameters: 'must be valid JSON' } };
  }
  const zone = values.timezone;
  const schedule =
    values.scheduleType === 'once'
      ? { type: 'once' as const, at: toInstant(values.at, zone) ?? values.at }
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
    measurement: { type: values.measurementType, parameters },
    schedule,
    policies: { misfire: values.misfire, overlap: values.overlap },
  };
  const parsed = createTaskRequestSchema.safeParse(candidate);
  if (!parsed.success)
    return { errors: errorsByField(toFieldErrors(parsed.error)) };
  const timing = validateScheduleTiming(parsed.data.schedule, nowMs);
  if (timing.length > 0) return { errors: errorsByField(timing) };
  return { body: candidate as CreateTaskInput, errors: {} };
}
