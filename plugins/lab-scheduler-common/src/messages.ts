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
