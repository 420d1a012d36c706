import {
  FieldError,
  findParameter,
  MeasurementParameterSchema,
} from '@lab-scheduler/plugin-lab-scheduler-common';

/**
 * The API's field errors in the words of the form: the API speaks to scripts ("must be a full entity
 * ref of the form kind:namespace/name", "measurement.parameters.wavelengthNm must be at most 1100 nm"),
 * a person filling in the form needs to know which field and what to do.
 */

/** What the messages may name: measurement types by their titles, the current type's parameters. */
export interface ErrorContext {
  typeTitle: (type: string) => string;
  parameterSchema?: MeasurementParameterSchema | null;
}

/** The form fields errors are shown on, with the label a person sees. */
export const FIELD_LABELS: Record<string, string> = {
  name: 'Name',
  description: 'Description',
  instrumentRef: 'Instrument',
  owner: 'Owner',
  measurementType: 'Measurement type',
  parameters: 'Parameters',
  at: 'Date and time',
  expression: 'Cron expression',
  timezone: 'Time zone',
  startAt: 'Starts',
  endAt: 'Ends',
  misfire: 'After downtime',
  overlap: 'If still running',
  notify: 'Notify me',
};

/** The form field an API path belongs to; parameter paths keep their own key (`parameters.qc.maxCt`). */
export function fieldForPath(path: string): string {
  if (path.startsWith('measurement.parameters.'))
    return path.slice('measurement.'.length);
  if (path === 'measurement.parameters') return 'parameters';
  if (path === 'measurement.type' || path === 'measurement')
    return 'measurementType';
  const schedule = /^schedule\.(at|expression|timezone|startAt|endAt)$/.exec(
    path,
  );
  if (schedule) return schedule[1];
  if (path.startsWith('policies.misfire')) return 'misfire';
  if (path.startsWith('policies.overlap')) return 'overlap';
  if (path.startsWith('policies.notify')) return 'notify';
  if (['name', 'description', 'instrumentRef', 'owner'].includes(path))
    return path;
  return 'form';
}

const titlesOf = (list: string, context: ErrorContext) =>
  list
    .split(',')
    .map(t => context.typeTitle(t.trim()))
    .join(', ');

/** A field's message as the form shows it under the field. */
export function humanMessage(
  field: string,
  message: string,
  context: ErrorContext,
): string {
  const missing = /^(is required|must not be empty|must be a string)/.test(
    message,
  );
  switch (field) {
    case 'name':
      return missing ? 'Enter a name' : message;
    case 'instrumentRef':
      if (missing || /entity ref/.test(message)) return 'Choose an instrument';
      if (/is not an instrument in the catalog/.test(message))
        return 'This instrument is not in the catalog; choose another one';
      return message;
    case 'owner':
      if (/not an owner ref|does not exist/.test(message))
        return 'Choose yourself or one of your groups';
      return message;
    case 'measurementType': {
      if (missing || /unknown measurement type/.test(message))
        return 'Choose a measurement type';
      const unsupported =
        /^'([^']*)' is not supported by .*, which supports: (.*)$/.exec(
          message,
        );
      if (unsupported) {
        return `This instrument does not do ${context.typeTitle(
          unsupported[1],
        )}; it does ${titlesOf(unsupported[2], context)}`;
      }
      return message;
    }
    case 'at':
      if (/must not be in the past/.test(message))
        return 'Pick a time in the future';
      if (/ISO-8601/.test(message)) return 'Enter a date and time';
      return message;
    case 'startAt':
    case 'endAt':
      if (/ISO-8601/.test(message)) return 'Enter a date and time';
      if (/must be after startAt/.test(message))
        return 'Must be after the start';
      return message;
    case 'timezone':
      return /IANA/.test(message)
        ? 'Choose a time zone from the list, e.g. Europe/Berlin'
        : message;
    default:
      if (field.startsWith('parameters.') && message === 'is not a known field')
        return `is not a parameter of this measurement type`;
      return message;
  }
}

/** The label of a field key, parameters by their descriptor's label. */
export function fieldLabel(field: string, context: ErrorContext): string {
  if (field.startsWith('parameters.')) {
    const path = field.slice('parameters.'.length);
    const descriptor = context.parameterSchema
      ? findParameter(context.parameterSchema, path)
      : undefined;
    return descriptor?.label ?? path;
  }
  return FIELD_LABELS[field] ?? field;
}

/** Form errors keyed by field (`form` for what belongs to no field). */
export type FormErrors = Record<string, string | undefined>;

/** Maps field errors (client- or server-side) onto the form's fields, in plain words. */
export function errorsByField(
  errors: FieldError[],
  context: ErrorContext,
): FormErrors {
  const result: FormErrors = {};
  for (const error of errors) {
    let field = fieldForPath(error.path);
    // A parameter the form has no field for (a typo in the JSON) is shown on the JSON box.
    if (
      field.startsWith('parameters.') &&
      !(context.parameterSchema
        ? findParameter(context.parameterSchema, field.slice(11))
        : undefined)
    ) {
      field = 'parameters';
    }
    let text: string;
    if (field === 'form') {
      text = `${error.path} ${error.message}`;
    } else if (
      field === 'parameters' &&
      error.path !== 'measurement.parameters'
    ) {
      const parameter = error.path.replace(/^measurement\.parameters\./, '');
      text = `${parameter} ${humanMessage(
        `parameters.${parameter}`,
        error.message,
        context,
      )}`;
    } else {
      text = humanMessage(field, error.message, context);
    }
    result[field] = result[field] ? `${result[field]}; ${text}` : text;
  }
  return result;
}

/** A failed request in words a person can act on (statuses without field details). */
export function requestErrorMessage(error: unknown, what: string): string {
  const status: number | undefined =
    (error as { statusCode?: number }).statusCode ??
    (error as { response?: { status?: number } }).response?.status;
  switch (status) {
    case 409:
      return `Someone changed this task while you were editing it. Close the form and open it again to see their changes.`;
    case 404:
      return 'This task no longer exists: it was deleted.';
    case 403:
      return `You are not allowed to ${what}.`;
    case 401:
      return 'Your session has expired: reload the page to sign in again.';
    case 413:
      return 'The task is too large: shorten the description or parameters.';
    default:
      if (status !== undefined && status >= 500)
        return `The Lab Scheduler could not ${what} (server error ${status}). Try again in a moment.`;
      if (status === undefined)
        return `The Lab Scheduler did not answer, so it could not ${what}. Check your connection and try again.`;
      return `Could not ${what}: ${(error as Error).message}`;
  }
}
