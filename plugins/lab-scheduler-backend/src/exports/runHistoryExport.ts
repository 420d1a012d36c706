import type {
  ExportFormat,
  KeysetPosition,
  Run,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import type { PageResult } from '../database/keyset';
import { csvLine } from './csv';

/** Reads one keyset page of a task's runs. */
export type RunPageReader = (
  after: KeysetPosition | undefined,
) => Promise<PageResult<Run>>;

const FIXED_COLUMNS = [
  'runId',
  'scheduledFor',
  'status',
  'outcome',
  'failedChecks',
  'attempt',
  'startedAt',
  'finishedAt',
  'durationMs',
  'measurementType',
  'error',
];

function summaryOf(run: Run): Record<string, unknown> {
  const summary = run.result?.summary;
  return summary && typeof summary === 'object'
    ? (summary as Record<string, unknown>)
    : {};
}

function csvRow(run: Run, summaryKeys: string[]): string {
  const outcome = run.outcome;
  const summary = summaryOf(run);
  return csvLine([
    run.id,
    run.scheduledFor,
    run.status,
    outcome?.kind,
    outcome?.kind === 'qc_fail' ? outcome.failedChecks.join(' ') : '',
    run.attempt,
    run.startedAt,
    run.finishedAt,
    run.result?.durationMs,
    run.result?.measurementType,
    run.error,
    ...summaryKeys.map(key => summary[key]),
  ]);
}

/**
 * A task's run history as export chunks, one chunk per keyset page of runs (newest first): memory holds
 * one page whatever the history's length, and the caller writes each chunk before the next page is read.
 * CSV: one row per run; the summary's values become `summary.<key>` columns, named after the keys found on
 * the first page (a task's measurement type fixes them; the JSON export has every key of every run).
 * JSON: an array of runs as the API answers them.
 */
export async function* runHistoryChunks(
  readPage: RunPageReader,
  format: ExportFormat,
): AsyncGenerator<string> {
  let after: KeysetPosition | undefined;
  let summaryKeys: string[] | undefined;
  let first = true;
  if (format === 'json') yield '[';
  do {
    const page = await readPage(after);
    if (format === 'json') {
      const items = page.items.map(run => JSON.stringify(run));
      if (items.length > 0) {
        yield `${first ? '' : ','}\n${items.join(',\n')}`;
        first = false;
      }
    } else {
      let chunk = '';
      if (!summaryKeys) {
        summaryKeys = [
          ...new Set(page.items.flatMap(run => Object.keys(summaryOf(run)))),
        ];
        chunk += csvLine([
          ...FIXED_COLUMNS,
          ...summaryKeys.map(key => `summary.${key}`),
        ]);
      }
      for (const run of page.items) chunk += csvRow(run, summaryKeys);
      yield chunk;
    }
    after = page.next;
  } while (after);
  if (format === 'json') yield '\n]\n';
}
