import {
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import {
  exportQuerySchema,
  ExportFormat,
  Run,
  toFieldErrors,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import express, { Request, Response } from 'express';
import Router from 'express-promise-router';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { TaskStore } from '../../database/TaskStore';
import { csvLine } from '../../exports/csv';
import { rawDataTable } from '../../exports/rawDataTable';
import { runHistoryChunks } from '../../exports/runHistoryExport';
import { RequestValidationError } from '../errors';
import { TaskPermissionRuleset } from '../../permissions/rules';
import { unavailableHandler } from '../unavailable';
import { TaskReadAccess } from './taskReadAccess';

export interface ExportRoutesOptions {
  store: TaskStore;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  /** The task rules from the permission registry: conditional read decisions applied in SQL. */
  taskRules: TaskPermissionRuleset;
  logger: LoggerService;
  /** Folder of the local raw data store (embedded default); S3 raw data is read from S3. */
  rawDataDirectory?: string;
  /** Runs read per database round trip of a history export; bounds its memory. Default 500. */
  exportPageSize?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function requireUuid(value: string): string {
  if (!UUID.test(value))
    throw new RequestValidationError([
      { path: 'id', message: 'must be a UUID' },
    ]);
  return value.toLowerCase();
}

function formatOf(req: Request): ExportFormat {
  const parsed = exportQuerySchema.safeParse(req.query);
  if (!parsed.success)
    throw new RequestValidationError(toFieldErrors(parsed.error));
  return parsed.data.format ?? 'csv';
}

function startDownload(res: Response, format: ExportFormat, name: string) {
  res.status(200);
  res.type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json');
  res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
}

/** Writes chunks with backpressure: the next chunk is produced only once the client took the last one. */
async function streamChunks(
  res: Response,
  chunks: AsyncIterable<string>,
): Promise<void> {
  for await (const chunk of chunks) {
    if (res.destroyed) return; // the client went away: stop reading pages
    if (!res.write(chunk)) {
      await Promise.race([once(res, 'drain'), once(res, 'close')]);
    }
  }
  res.end();
}

/**
 * Downloads: a run's raw data (`GET /runs/:id/export`) and a task's run history
 * (`GET /tasks/:id/runs/export`), as CSV (default) or JSON; readable by whoever may read the task.
 */
export function createExportRoutes(
  options: ExportRoutesOptions,
): express.Router {
  const { store, logger } = options;
  const access = new TaskReadAccess(
    options.httpAuth,
    options.permissions,
    options.taskRules,
  );
  const router = Router();

  async function readableRun(req: Request): Promise<Run> {
    const credentials = await access.credentials(req);
    const run = await store.getRun(requireUuid(req.params.id));
    const task = run && (await store.getTask(run.taskId));
    if (!run || !task)
      throw new NotFoundError(`Run ${req.params.id} not found`);
    await access.requireRead(credentials, task);
    return run;
  }

  router.get('/runs/:id/export', async (req, res) => {
    const format = formatOf(req);
    const run = await readableRun(req);
    const uri = (run.result as any)?.rawData?.uri as string | undefined;
    if (!uri) throw new NotFoundError(`Run ${run.id} has no raw data`);
    if (!uri.startsWith('file://') || !options.rawDataDirectory) {
      throw new NotFoundError(
        `Raw data of run ${run.id} is stored at ${uri}; read it from there`,
      );
    }
    const root = resolvePath(options.rawDataDirectory);
    const file = resolvePath(uri.slice('file://'.length));
    if (!file.startsWith(`${root}/`))
      throw new NotFoundError(
        `Raw data of run ${run.id} is not available here`,
      );
    const text = await readFile(file, 'utf8');
    if (format === 'json') {
      startDownload(res, format, `run-${run.id}.json`);
      res.end(text);
      return;
    }
    const table = rawDataTable(JSON.parse(text));
    startDownload(res, format, `run-${run.id}.csv`);
    // One raw data file is bounded by the instrument; the rows go out in slices all the same.
    async function* lines() {
      yield csvLine(table.columns);
      for (let i = 0; i < table.rows.length; i += 1000)
        yield table.rows
          .slice(i, i + 1000)
          .map(row => csvLine(row))
          .join('');
    }
    await streamChunks(res, lines());
  });

  router.get('/tasks/:id/runs/export', async (req, res) => {
    const format = formatOf(req);
    const credentials = await access.credentials(req);
    const id = requireUuid(req.params.id);
    const task = await store.getTask(id);
    if (!task) throw new NotFoundError(`Task ${id} not found`);
    await access.requireRead(credentials, task);
    const limit = options.exportPageSize ?? 500;
    startDownload(res, format, `task-${task.id}-runs.${format}`);
    try {
      await streamChunks(
        res,
        runHistoryChunks(
          after => store.listRuns(task.id, { limit, after }),
          format,
        ),
      );
    } catch (error) {
      // Headers are gone: all that is left is to cut the download short, so the client sees it fail.
      logger.warn('Run history export failed', {
        taskId: task.id,
        error: String(error),
      });
      res.destroy(error as Error);
    }
  });

  // Its own: errors of this router do not pass the main router's handlers (503 while the database is down).
  router.use(unavailableHandler(logger));
  return router;
}
