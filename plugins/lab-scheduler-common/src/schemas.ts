import { z } from 'zod';
import {
  builtInMeasurementTypeLookup,
  INSTRUMENT_CAPACITY_ANNOTATION,
  MeasurementTypeLookup,
} from './measurements';
import {
  cronSyntaxError,
  firstOccurrenceAtOrAfter,
  isValidTimeZone,
} from './schedule';
import { boundedJson } from './jsonValue';
import { textField, textRule } from './text';
import { TASK_STATES, TaskSchedule } from './types';

/** Validation schemas for the REST API, shared by the backend and the frontend forms. */

/** Largest `limit` of a list request. @public */
export const MAX_PAGE_SIZE = 200;
/** Default `limit` of a list request. @public */
export const DEFAULT_PAGE_SIZE = 50;

const ENTITY_REF =
  /^[a-zA-Z0-9][a-zA-Z0-9_.-]*:[a-zA-Z0-9][a-zA-Z0-9_.-]*\/[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** A full entity ref `kind:namespace/name`, normalised to lower case. @public */
export const entityRefSchema = z
  .string({ error: 'must be a string' })
  .max(255, 'must be at most 255 characters')
  .regex(
    ENTITY_REF,
    'must be a full entity ref of the form kind:namespace/name',
  )
  .transform(s => s.toLocaleLowerCase('en-US'));

/** An ISO-8601 instant with an explicit offset or Z, normalised to UTC with milliseconds. @public */
export const isoInstantSchema = z
  .string({ error: 'must be a string' })
  .refine(s => {
    const m =
      /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(:(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.exec(
        s,
      );
    if (!m || Number.isNaN(Date.parse(s))) return false;
    // Date.parse rolls 30 February over to March: check the calendar date and clock really exist.
    const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 7].map(i =>
      Number(m[i] ?? 0),
    );
    const calendar = new Date(Date.UTC(year, month - 1, day));
    return (
      calendar.getUTCFullYear() === year &&
      calendar.getUTCMonth() === month - 1 &&
      calendar.getUTCDate() === day &&
      hour <= 23 &&
      minute <= 59 &&
      second <= 59
    );
  }, 'must be an ISO-8601 date-time with an offset or Z, e.g. 2026-12-01T09:00:00Z')
  .transform(s => new Date(Date.parse(s)).toISOString());

const nameSchema = textField({ max: 200, visible: true });

const descriptionSchema = textField({ max: 4000, multiline: true });

const timeZoneSchema = z
  .string({ error: 'must be a string' })
  .refine(
    isValidTimeZone,
    'must be an IANA time zone name, e.g. Europe/Berlin',
  );

const onceScheduleSchema = z.strictObject({
  type: z.literal('once'),
  at: isoInstantSchema,
  timezone: timeZoneSchema.optional(),
});

const cronScheduleSchema = z
  .strictObject({
    type: z.literal('cron'),
    expression: z
      .string({ error: 'must be a string' })
      .max(200, 'must be at most 200 characters')
      .superRefine((expr, ctx) => {
        const error = cronSyntaxError(expr);
        if (error) ctx.addIssue({ code: 'custom', message: error });
      })
      .transform(s => s.trim().split(/\s+/).join(' ')),
    timezone: timeZoneSchema,
    startAt: isoInstantSchema.optional(),
    endAt: isoInstantSchema.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.startAt && s.endAt && Date.parse(s.endAt) <= Date.parse(s.startAt)) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be after startAt',
        path: ['endAt'],
      });
    }
  });

/** A task's schedule: one-time or cron with a time zone. @public */
export const scheduleSchema = z.discriminatedUnion(
  'type',
  [onceScheduleSchema, cronScheduleSchema],
  { error: "must be an object with type 'once' or 'cron'" },
);

/** Parameters are flat apart from their QC thresholds; deeper nesting is never meaningful. */
const MAX_PARAMETER_DEPTH = 4;

/**
 * A measurement: a type the given lookup knows and its parameters, validated (and defaulted) per type.
 * @public
 */
export function createMeasurementSchema(types: MeasurementTypeLookup) {
  return z
    .strictObject({
      type: textField({ max: 100 }),
      parameters: boundedJson(
        z.record(z.string(), z.unknown(), { error: 'must be an object' }),
        MAX_PARAMETER_DEPTH,
      ).default({}),
    })
    .transform((m, ctx) => {
      const definition = types.get(m.type);
      if (!definition) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown measurement type '${
            m.type
          }', expected one of ${types
            .list()
            .map(d => d.type)
            .join(', ')}`,
          path: ['type'],
        });
        return z.NEVER;
      }
      const parsed = definition.parameters.safeParse(m.parameters);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          ctx.addIssue({
            code: 'custom',
            message: issueMessage(issue),
            path: ['parameters', ...issuePath(issue)],
          });
        }
        return z.NEVER;
      }
      return {
        type: m.type,
        parameters: parsed.data as Record<string, unknown>,
      };
    });
}

/** A measurement of a built-in type (see createMeasurementSchema for a backend's own types). @public */
export const measurementSchema = createMeasurementSchema(
  builtInMeasurementTypeLookup,
);

/** Dispatch policies; every field optional, defaults from DEFAULT_TASK_POLICIES. @public */
export const policiesSchema = z.strictObject(
  {
    misfire: z
      .enum(['skip', 'run_once', 'run_all'], {
        error: 'must be one of skip, run_once, run_all',
      })
      .optional(),
    misfireWindowSeconds: z
      .number({ error: 'must be an integer' })
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(7 * 86400, 'must be at most 604800 (7 days)')
      .optional(),
    overlap: z
      .enum(['skip', 'allow'], { error: 'must be one of skip, allow' })
      .optional(),
    notify: z
      .enum(['off', 'failures', 'every_run'], {
        error: 'must be one of off, failures, every_run',
      })
      .optional(),
    // The instrument's capacity is the instrument's (catalog annotation), shared by every team's
    // tasks on it: a task cannot raise it, so it is not an input.
    instrumentConcurrency: z
      .unknown()
      .refine(value => value === undefined, {
        message: `is the instrument's capacity, set in the catalog (annotation ${INSTRUMENT_CAPACITY_ANNOTATION}); a task cannot change it`,
      })
      .optional() as z.ZodOptional<z.ZodType<undefined>>,
  },
  { error: 'must be an object' },
);

/**
 * The bodies of `POST /tasks` and `PATCH /tasks/:id` for a backend running the given measurement types.
 * @public
 */
export function createTaskRequestSchemas(types: MeasurementTypeLookup) {
  const measurement = createMeasurementSchema(types);
  return {
    /** Body of `POST /tasks`. */
    create: z.strictObject(
      {
        name: nameSchema,
        description: descriptionSchema.optional(),
        instrumentRef: entityRefSchema,
        owner: entityRefSchema.optional(),
        measurement,
        schedule: scheduleSchema,
        policies: policiesSchema.optional(),
      },
      { error: 'must be a JSON object' },
    ),
    /** Body of `PATCH /tasks/:id`: any subset of the fields, plus the version it was read at. */
    update: z.strictObject(
      {
        name: nameSchema.optional(),
        description: descriptionSchema.optional(),
        instrumentRef: entityRefSchema.optional(),
        owner: entityRefSchema.optional(),
        measurement: measurement.optional(),
        schedule: scheduleSchema.optional(),
        policies: policiesSchema.optional(),
        version: z
          .number({ error: 'must be an integer' })
          .int('must be an integer')
          .min(1, 'must be at least 1')
          .optional(),
      },
      { error: 'must be a JSON object' },
    ),
  };
}

const builtInTaskRequestSchemas = createTaskRequestSchemas(
  builtInMeasurementTypeLookup,
);

/** Body of `POST /tasks` with the built-in measurement types. @public */
export const createTaskRequestSchema = builtInTaskRequestSchemas.create;

/** Body of `PATCH /tasks/:id` with the built-in measurement types. @public */
export const updateTaskRequestSchema = builtInTaskRequestSchemas.update;

/** @public */
export type CreateTaskRequest = z.infer<typeof createTaskRequestSchema>;
/** @public */
export type UpdateTaskRequest = z.infer<typeof updateTaskRequestSchema>;

const queryString = z.string({ error: 'must be given once, as a string' });

const booleanQuery = queryString
  .refine(v => v === 'true' || v === 'false', 'must be true or false')
  .transform(v => v === 'true');

/**
 * Largest count `GET /tasks?count=true` gives exactly: beyond it the answer is "more than this", which
 * keeps counting cheap at a million tasks.
 * @public
 */
export const TASK_COUNT_CAP = 1000;

/** Query of `GET /tasks`. @public */
export const listTasksQuerySchema = z.strictObject({
  limit: queryString
    .regex(/^\d{1,4}$/, `must be an integer from 1 to ${MAX_PAGE_SIZE}`)
    .transform(Number)
    .refine(
      n => n >= 1 && n <= MAX_PAGE_SIZE,
      `must be an integer from 1 to ${MAX_PAGE_SIZE}`,
    )
    .optional(),
  cursor: queryString.max(500, 'is not a valid cursor').optional(),
  state: z
    .enum(TASK_STATES as [string, ...string[]], {
      error: `must be one of ${TASK_STATES.join(', ')}`,
    })
    .optional(),
  text: queryString.superRefine(textRule({ max: 200 })).optional(),
  instrument: entityRefSchema.optional(),
  owner: entityRefSchema.optional(),
  /** Tasks owned by the signed-in user or one of their groups. */
  mine: booleanQuery.optional(),
  /** Also answer how many tasks match (capped at TASK_COUNT_CAP). */
  count: booleanQuery.optional(),
});

/** Query of the paginated run and audit lists. @public */
export const pageQuerySchema = z.strictObject({
  limit: listTasksQuerySchema.shape.limit,
  cursor: listTasksQuerySchema.shape.cursor,
});

/** @public */
export type ListTasksQuery = z.infer<typeof listTasksQuerySchema>;

/** One problem with a request, naming the field. @public */
export interface FieldError {
  path: string;
  message: string;
}

function issuePath(issue: z.core.$ZodIssue): PropertyKey[] {
  if (issue.code === 'unrecognized_keys') {
    // Name the unknown field itself, not its parent.
    return [...issue.path, ...(issue.keys.length === 1 ? [issue.keys[0]] : [])];
  }
  return issue.path;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.length === 1
      ? 'is not a known field'
      : `has unknown fields: ${issue.keys.join(', ')}`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return 'is required';
  }
  return issue.message;
}

/** Flattens zod issues into `{ path, message }` pairs with dotted paths. @public */
export function toFieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map(issue => ({
    path: issuePath(issue).map(String).join('.') || '(body)',
    message: issueMessage(issue),
  }));
}

/** One message naming every bad field, e.g. "name is required; schedule.timezone must be …". @public */
export function describeFieldErrors(errors: FieldError[]): string {
  return errors.map(e => `${e.path} ${e.message}`).join('; ');
}

/** How far ahead an instant of a schedule may lie: further is a typo (2226 for 2026), not a plan. @public */
export const MAX_SCHEDULE_YEARS_AHEAD = 10;

/**
 * Checks of a schedule against the clock: an instant more than 10 years ahead, a one-time instant in
 * the past, an end already past, a cron that will never fire within its window. Returns field errors (empty when fine).
 * @public
 */
export function validateScheduleTiming(
  schedule: TaskSchedule,
  nowMs: number,
  pathPrefix = 'schedule',
): FieldError[] {
  const latest = nowMs + MAX_SCHEDULE_YEARS_AHEAD * 366 * 86_400_000;
  const instants: [string, string | undefined][] =
    schedule.type === 'once'
      ? [['at', schedule.at]]
      : [
          ['startAt', schedule.startAt],
          ['endAt', schedule.endAt],
        ];
  const tooFar = instants
    .filter(([, at]) => at !== undefined && Date.parse(at) > latest)
    .map(([field]) => ({
      path: `${pathPrefix}.${field}`,
      message: `must be at most ${MAX_SCHEDULE_YEARS_AHEAD} years from now`,
    }));
  if (tooFar.length > 0) return tooFar;
  if (schedule.type === 'once') {
    if (Date.parse(schedule.at) < nowMs) {
      return [{ path: `${pathPrefix}.at`, message: 'must not be in the past' }];
    }
    return [];
  }
  if (schedule.endAt && Date.parse(schedule.endAt) <= nowMs) {
    return [{ path: `${pathPrefix}.endAt`, message: 'must be in the future' }];
  }
  if (firstOccurrenceAtOrAfter(schedule, nowMs) === null) {
    return [
      {
        path: `${pathPrefix}.expression`,
        message: schedule.endAt
          ? 'never fires between startAt and endAt'
          : 'can never fire (no matching date)',
      },
    ];
  }
  return [];
}
