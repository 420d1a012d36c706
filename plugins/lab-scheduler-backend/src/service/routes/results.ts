import {
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  DEFAULT_PAGE_SIZE,
  recentResultsQuerySchema,
  toFieldErrors,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import express from 'express';
import Router from 'express-promise-router';
import { nextCursorOf, positionOfCursor } from '../../database/keyset';
import { RecentResultStore } from '../../database/RecentResultStore';
import { RequestValidationError } from '../errors';
import { TaskPermissionRuleset } from '../../permissions/rules';
import { unavailableHandler } from '../unavailable';
import { TaskReadAccess } from './taskReadAccess';

export interface ResultRoutesOptions {
  recentResults: RecentResultStore;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  /** The task rules from the permission registry: conditional read decisions applied in SQL. */
  taskRules: TaskPermissionRuleset;
  logger: LoggerService;
}

/** `GET /results`: the latest finished runs across the tasks the caller may read, newest first. */
export function createResultRoutes(
  options: ResultRoutesOptions,
): express.Router {
  const access = new TaskReadAccess(
    options.httpAuth,
    options.permissions,
    options.taskRules,
  );
  const router = Router();

  router.get('/results', async (req, res) => {
    const credentials = await access.credentials(req);
    const parsed = recentResultsQuerySchema.safeParse(req.query);
    if (!parsed.success)
      throw new RequestValidationError(toFieldErrors(parsed.error));
    const query = parsed.data;
    const after = positionOfCursor(query.cursor);
    const page = await options.recentResults.listRecentResults({
      outcomes: query.outcome,
      permissionFilter: await access.readFilter(credentials),
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      after,
    });
    res.json({
      items: page.items,
      nextCursor: nextCursorOf(page),
    });
  });

  // Its own: errors of this router do not pass the main router's handlers (503 while the database is down).
  router.use(unavailableHandler(options.logger));
  return router;
}
