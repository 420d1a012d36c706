import { z } from 'zod';
import { boundedJson } from './jsonValue';
import { textField } from './text';

/**
 * The message published to the queue for each run: versioned, so that the dispatcher and the executors
 * (Lambda, in-process) can be deployed independently.
 */

/**
 * A claim token as the dispatcher draws them (base64url). Anything else cannot be a run's token, and is
 * refused before it reaches the database.
 * @public
 */
export const claimTokenSchema = z
  .string({ error: 'must be a string' })
  .regex(
    /^[A-Za-z0-9_-]{1,64}$/,
    'must be a claim token (1-64 characters of A-Z, a-z, 0-9, _ and -)',
  );

/** Current version of the run message schema. @public */
export const RUN_MESSAGE_SCHEMA_VERSION = 1;

/** @public */
export const runMessageSchema = z.object({
  schemaVersion: z.literal(RUN_MESSAGE_SCHEMA_VERSION),
  runId: z.string().uuid(),
  taskId: z.string().uuid(),
  taskName: z.string(),
  instrumentRef: z.string(),
  owner: z.string(),
  scheduledFor: z.string(),
  attempt: z.number().int().min(1),
  /**
   * The claim this message was published under. The executor hands it back when it starts the run; the
   * backend refuses a token that is no longer the run's (a superseded claim), so a duplicate message
   * never measures. Absent in messages of dispatchers older than claim tokens.
   */
  claimToken: claimTokenSchema.optional(),
  measurement: z.object({
    type: z.string(),
    parameters: z.record(z.string(), z.unknown()),
  }),
});

/** @public */
export type RunMessage = z.infer<typeof runMessageSchema>;

/** Parses a queue message body, throwing a descriptive error for anything malformed. @public */
export function parseRunMessage(body: string): RunMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error('Run message is not valid JSON');
  }
  const result = runMessageSchema.safeParse(json);
  if (!result.success) {
    throw new Error(
      `Run message is malformed: ${result.error.issues
        .map(i => `${i.path.join('.') || '(body)'} ${i.message}`)
        .join('; ')}`,
    );
  }
  return result.data;
}

/** Largest accepted run result (summary + QC + raw data link), as JSON. @public */
export const MAX_RUN_RESULT_BYTES = 64 * 1024;

/** Deepest nesting of a run result (the result itself is level 1; its summary level 2). @public */
export const MAX_RUN_RESULT_DEPTH = 16;

/** Highest attempt number an executor may report: far above any redrive policy, within a 32-bit column. @public */
export const MAX_RUN_ATTEMPT = 1000;

/** The recorded outcome of a successful measurement. @public */
export const runResultSchema = boundedJson(
  z
    .strictObject({
      measurementType: textField({ max: 100 }),
      driver: textField({ max: 100 }),
      summary: z.record(z.string(), z.unknown()),
      qc: z.strictObject({
        status: z.enum(['pass', 'fail', 'not_checked']),
        checks: z.array(z.unknown()).max(50),
      }),
      rawData: z.strictObject({
        uri: textField({ max: 2000 }),
        bytes: z.number().int().min(0),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
      }),
      durationMs: z.number().min(0),
    })
    .superRefine((result, ctx) => {
      // Safe to stringify: boundedJson has bounded the depth.
      const bytes = new TextEncoder().encode(JSON.stringify(result)).length;
      if (bytes > MAX_RUN_RESULT_BYTES) {
        ctx.addIssue({
          code: 'custom',
          message: `must be at most ${MAX_RUN_RESULT_BYTES} bytes as JSON`,
        });
      }
    }),
  MAX_RUN_RESULT_DEPTH,
);

/** @public */
export type RunResult = z.infer<typeof runResultSchema>;

/** Status events the executor reports (`POST /runs/:id/events`). @public */
export const runEventSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('started'),
    attempt: z
      .number({ error: 'must be an integer' })
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(MAX_RUN_ATTEMPT, `must be at most ${MAX_RUN_ATTEMPT}`),
    /** The message's claim token (see runMessageSchema). */
    claimToken: claimTokenSchema.optional(),
  }),
  z.strictObject({
    type: z.literal('succeeded'),
    result: runResultSchema,
    claimToken: claimTokenSchema.optional(),
  }),
  z.strictObject({
    type: z.literal('failed'),
    claimToken: claimTokenSchema.optional(),
    error: textField({ max: 4000, multiline: true, visible: true }),
    retrying: z.boolean(),
    deadLettered: z.boolean().optional(),
  }),
]);

/** @public */
export type RunEvent = z.infer<typeof runEventSchema>;
