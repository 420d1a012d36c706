import { z } from 'zod';

/**
 * The message published to the queue for each run: versioned, so that the dispatcher and the executors
 * (Lambda, in-process) can be deployed independently.
 */

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
  claimToken: z.string().max(64).optional(),
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

/** The recorded outcome of a successful measurement. @public */
export const runResultSchema = z.strictObject({
  measurementType: z.string().max(100),
  driver: z.string().max(100),
  summary: z.record(z.string(), z.unknown()),
  qc: z.strictObject({
    status: z.enum(['pass', 'fail', 'not_checked']),
    checks: z.array(z.unknown()).max(50),
  }),
  rawData: z.strictObject({
    uri: z.string().max(2000),
    bytes: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  durationMs: z.number().min(0),
});

/** @public */
export type RunResult = z.infer<typeof runResultSchema>;

/** Status events the executor reports (`POST /runs/:id/events`). @public */
export const runEventSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('started'),
    attempt: z.number().int().min(1),
    /** The message's claim token (see runMessageSchema). */
    claimToken: z.string().max(64).optional(),
  }),
  z.strictObject({ type: z.literal('succeeded'), result: runResultSchema }),
  z.strictObject({
    type: z.literal('failed'),
    error: z.string().min(1).max(4000),
    retrying: z.boolean(),
    deadLettered: z.boolean().optional(),
  }),
]);

/** @public */
export type RunEvent = z.infer<typeof runEventSchema>;
