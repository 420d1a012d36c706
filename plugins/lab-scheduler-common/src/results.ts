import { z } from 'zod';
import { FINISHED_RUN_OUTCOME_KINDS, RunOutcomeKind } from './runOutcome';
import { pageQuerySchema } from './schemas';
import type { Run } from './types';

/** The task a recent result belongs to, as much of it as a result list shows. @public */
export interface RecentResultTask {
  id: string;
  name: string;
  instrumentRef: string;
  owner: string;
  measurementType: string;
}

/** A finished run with its task: one row of `GET /results`. @public */
export interface RecentResult {
  run: Run;
  task: RecentResultTask;
}

/**
 * Query of `GET /results`: the latest finished runs, newest first. `outcome` is a comma-separated list of
 * finished outcome kinds (e.g. `qc_fail,failed,dead_lettered`); absent for every finished run.
 * @public
 */
export const recentResultsQuerySchema = pageQuerySchema.extend({
  outcome: z
    .string({ error: 'must be given once, as a comma-separated list' })
    .transform((value, ctx) => {
      const kinds = value.split(',').map(kind => kind.trim());
      const unknown = kinds.filter(
        kind => !FINISHED_RUN_OUTCOME_KINDS.includes(kind as RunOutcomeKind),
      );
      if (unknown.length > 0 || kinds.length === 0) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a comma-separated list of ${FINISHED_RUN_OUTCOME_KINDS.join(
            ', ',
          )}`,
        });
        return z.NEVER;
      }
      return [...new Set(kinds)] as RunOutcomeKind[];
    })
    .optional(),
});

/** @public */
export type RecentResultsQuery = z.infer<typeof recentResultsQuerySchema>;

/** Formats of the exports (`GET /runs/:id/export`, `GET /tasks/:id/runs/export`). @public */
export const EXPORT_FORMATS = ['csv', 'json'] as const;

/** @public */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Query of the export routes. @public */
export const exportQuerySchema = z.strictObject({
  format: z
    .enum(EXPORT_FORMATS, {
      error: `must be one of ${EXPORT_FORMATS.join(', ')}`,
    })
    .optional(),
});
