import {
  BackstageCredentials,
  HttpAuthService,
  LoggerService,
  PermissionsService,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import {
  ConflictError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import {
  AuthorizeResult,
  BasicPermission,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  createConditionAuthorizer,
  createConditionTransformer,
} from '@backstage/plugin-permission-node';
import {
  builtInMeasurementTypeLookup,
  createTaskRequestSchemas,
  MeasurementTypeLookup,
  DEFAULT_TASK_POLICIES,
  DEFAULT_PAGE_SIZE,
  FieldError,
  listTasksQuerySchema,
  runEventSchema,
  runReportPermission,
  pageQuerySchema,
  Task,
  taskCreatePermission,
  taskDeletePermission,
  TaskState,
  taskReadPermission,
  TASK_COUNT_CAP,
  taskUpdatePermission,
  toFieldErrors,
  validateScheduleTiming,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import express, { Request } from 'express';
import { resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { LAB_SCHEDULER_DEFAULTS } from '../config/defaults';
import { nextCursorOf, positionOfCursor } from '../database/keyset';
import { RunQueue } from '../database/RunQueue';
import { RunStateStore } from '../database/RunStateStore';
import { TaskFilter, TaskStore } from '../database/TaskStore';
import { TaskPermissionRuleset } from '../permissions/rules';
import { NewTaskFields, TaskService } from '../tasks/TaskService';
import { createOpenApiRouter } from '../schema/openapi/generated/router';
import { unavailableHandler } from './unavailable';
import {
  bodyParserErrors,
  RequestValidationError,
  UnsupportedMediaTypeError,
  validationDetails,
} from './errors';
import { InstrumentCatalog } from './InstrumentCatalog';
import { OwnerCatalog, ownerRefErrors } from './OwnerCatalog';
import { measurementTypesRouter } from './routes/measurementTypes';
import { createCalendarRoutes } from './routes/calendar';

export interface RouterOptions {
  store: TaskStore;
  instruments: InstrumentCatalog;
  /** Checks that task owners exist in the catalog. */
  owners: OwnerCatalog;
  httpAuth: HttpAuthService;
  /** The ownership refs (user and groups) of a signed-in user: whom they may assign tasks to. */
  userInfo: UserInfoService;
  permissions: PermissionsService;
  /** The task rules from the permission registry: conditional decisions applied in SQL or per task. */
  taskRules: TaskPermissionRuleset;
  logger: LoggerService;
  /** Largest accepted JSON body, e.g. '64kb'. */
  maxBodySize?: string;
  /** The clock; injectable for tests. */
  now?: () => number;
  /** Called after a task is created or changed, e.g. to wake the dispatcher. */
  onTaskChanged?: (task: Task | undefined) => void;
  /** Records executor events; without it `POST /runs/:id/events` answers 404. */
  runStates?: RunStateStore;
  /** Called when a run ends (its instrument slot is free again). */
  onRunFinished?: () => void;
  /** Called when an executor starts a run (queued → running): open pages may show it running. */
  onRunStarted?: () => void;
  /** Folder of the local raw data store, served by `GET /runs/:id/raw` (embedded default). */
  rawDataDirectory?: string;
  /** The instruments' run queues: the calendar's clash checks and why runs wait. */
  runQueue: RunQueue;
  /**
   * The measurement types this backend runs (built in and from modules): what task bodies are validated
   * against, what `GET /measurement-types` lists and how long the calendar draws a run. Default: the
   * built-in types.
   */
  measurementTypes?: MeasurementTypeLookup;
}

/**
 * A request of any route of the typed router: the shared helpers read only headers, path ids and
 * credentials, whatever the route's own parameter and body types.
 */
type AnyRequest = Request<any, any, any, any>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success)
    throw new RequestValidationError(toFieldErrors(result.error));
  return result.data;
}

function requireUuid(value: string, what = 'id'): string {
  if (!UUID.test(value)) {
    throw new RequestValidationError([
      { path: what, message: 'must be a UUID' },
    ]);
  }
  return value.toLowerCase();
}

function actorOf(credentials: BackstageCredentials): string {
  const principal = credentials.principal as {
    type: string;
    userEntityRef?: string;
    subject?: string;
  };
  if (principal.type === 'user' && principal.userEntityRef)
    return principal.userEntityRef;
  return `service:${principal.subject ?? 'unknown'}`;
}

function isUserPrincipal(credentials: BackstageCredentials): boolean {
  return (credentials.principal as { type: string }).type === 'user';
}

/** Who made a request, for logs of refused attempts. */
function principalOf(
  credentials: BackstageCredentials,
): Record<string, string> {
  return {
    principal: (credentials.principal as { type: string }).type,
    actor: actorOf(credentials),
  };
}

/** The version a PATCH or DELETE expects, from the body or an If-Match header. */
function expectedVersion(
  req: AnyRequest,
  bodyVersion: number | undefined,
): number | undefined {
  if (bodyVersion !== undefined) return bodyVersion;
  const header = req.header('if-match');
  if (header === undefined) return undefined;
  const match = /^(?:W\/)?"?(\d{1,9})"?$/.exec(header.trim());
  if (!match || Number(match[1]) < 1) {
    throw new RequestValidationError([
      { path: 'If-Match', message: 'must be the task version, e.g. "3"' },
    ]);
  }
  return Number(match[1]);
}

function requireJsonBody(req: AnyRequest): void {
  if (!req.is('application/json')) {
    throw new UnsupportedMediaTypeError(
      'Content-Type must be application/json',
    );
  }
}

export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { store, instruments, owners, httpAuth, permissions, logger } = options;
  const now = options.now ?? Date.now;
  const measurementTypes =
    options.measurementTypes ?? builtInMeasurementTypeLookup;
  const taskRequestSchemas = createTaskRequestSchemas(measurementTypes);
  const tasks = new TaskService({
    store,
    onTaskChanged: options.onTaskChanged,
  });
  const toFilter = createConditionTransformer(options.taskRules);
  const isAllowedBy = createConditionAuthorizer(options.taskRules);

  const router = await createOpenApiRouter({
    // The body parser comes after the validator's error mapping, which would turn its 413 and
    // "not valid JSON" answers into a bare 400 (the error handler below answers them).
    middleware: [(_req, _res, next) => next()],
    // The zod schemas validate requests: their errors name each field in `details`, which the
    // validator's single InputError message would lose.
    validatorOptions: { validateRequests: false },
  });
  const maxBodySize =
    options.maxBodySize ?? LAB_SCHEDULER_DEFAULTS.api.maxBodySize;
  router.use(express.json({ limit: maxBodySize, strict: false }));

  /** A 403, logged with the principal that was refused (the audit trail only records changes). */
  function denied(
    credentials: BackstageCredentials,
    message: string,
    fields: Record<string, unknown> = {},
  ): NotAllowedError {
    logger.warn('Request denied', {
      ...principalOf(credentials),
      reason: message,
      ...fields,
    });
    return new NotAllowedError(message);
  }

  /** The refs a user may act as owner for: themselves and their groups (lower-cased). */
  async function ownershipRefsOf(
    credentials: BackstageCredentials,
  ): Promise<string[]> {
    if (!isUserPrincipal(credentials)) return [];
    const info = await options.userInfo.getUserInfo(credentials);
    return [info.userEntityRef, ...info.ownershipEntityRefs].map(ref =>
      ref.toLocaleLowerCase('en-US'),
    );
  }

  /**
   * Owner rules of create and update: the ref must name a user or group (400), a user may only name
   * themselves or one of their groups (403), and it must exist in the catalog (400). Services may name
   * any existing user or group.
   */
  async function ownerErrors(
    credentials: BackstageCredentials,
    owner: string,
  ): Promise<FieldError[]> {
    const refErrors = ownerRefErrors(owner);
    if (refErrors.length > 0) return refErrors;
    if (isUserPrincipal(credentials)) {
      const mine = await ownershipRefsOf(credentials);
      if (!mine.includes(owner.toLocaleLowerCase('en-US'))) {
        throw denied(
          credentials,
          `owner: you may not assign tasks to ${owner}; a user may assign tasks only to themselves or to a group they belong to (${mine.join(
            ', ',
          )})`,
          { owner },
        );
      }
    }
    return owners.validate(owner);
  }

  async function authorizeBasic(req: AnyRequest, permission: BasicPermission) {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const [decision] = await permissions.authorize([{ permission }], {
      credentials,
    });
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw denied(credentials, `Not allowed: ${permission.name}`, {
        permission: permission.name,
      });
    }
    return credentials;
  }

  /** Checks a resource permission on a loaded task, applying conditional decisions locally. */
  async function requireTaskPermission(
    credentials: BackstageCredentials,
    permission: ResourcePermission,
    task: Task | undefined,
  ): Promise<void> {
    const [decision] = await permissions.authorizeConditional(
      [{ permission }],
      { credentials },
    );
    const allowed =
      decision.result === AuthorizeResult.ALLOW ||
      (decision.result === AuthorizeResult.CONDITIONAL &&
        task !== undefined &&
        isAllowedBy(decision, task));
    if (!allowed) {
      throw denied(
        credentials,
        `Not allowed: ${permission.name}${task ? ` on task ${task.id}` : ''}`,
        { permission: permission.name, taskId: task?.id },
      );
    }
  }

  /** Loads a task (404 when unknown) and checks a resource permission on it (403 when denied). */
  async function authorizedTask(
    req: AnyRequest,
    id: string,
    permission: ResourcePermission,
  ): Promise<{ task: Task; credentials: BackstageCredentials }> {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const task = await store.getTask(requireUuid(id));
    if (!task) throw new NotFoundError(`Task ${id} not found`);
    await requireTaskPermission(credentials, permission, task);
    return { task, credentials };
  }

  router.use(
    measurementTypesRouter({
      httpAuth,
      permissions,
      definitions: () => measurementTypes.list(),
    }),
  );

  router.get('/health', async (_req, res) => {
    try {
      await store.ping();
      res.json({ status: 'ok' });
    } catch (error) {
      logger.warn(`Health check failed: ${error}`);
      res.status(503).json({ status: 'unavailable' });
    }
  });

  router.post('/tasks', async (req, res) => {
    requireJsonBody(req);
    const credentials = await authorizeBasic(req, taskCreatePermission);
    const body = parseOrThrow(taskRequestSchemas.create, req.body);
    const nowMs = now();
    const errors: FieldError[] = [
      ...validateScheduleTiming(body.schedule, nowMs),
    ];
    const isUser = credentials.principal.type === 'user';
    if (!body.owner && !isUser) {
      errors.push({
        path: 'owner',
        message: 'is required when the caller is a service',
      });
    }
    if (errors.length === 0 && body.owner) {
      errors.push(...(await ownerErrors(credentials, body.owner)));
    }
    if (errors.length === 0) {
      errors.push(
        ...(await instruments.validate(
          body.instrumentRef,
          body.measurement.type,
        )),
      );
    }
    if (errors.length > 0) throw new RequestValidationError(errors);
    const actor = actorOf(credentials);
    const task = await tasks.create(
      {
        name: body.name,
        description: body.description ?? '',
        instrumentRef: body.instrumentRef,
        owner: body.owner ?? actor,
        measurement: body.measurement,
        schedule: body.schedule,
        policies: {
          ...DEFAULT_TASK_POLICIES,
          ...body.policies,
          // The instrument's own capacity, from the catalog: never the caller's.
          instrumentConcurrency: await instruments.capacity(body.instrumentRef),
        },
      },
      { actor, nowMs },
    );
    logger.info('Task created', {
      taskId: task.id,
      actor,
      instrumentRef: task.instrumentRef,
    });
    res.status(201).json(task);
  });

  router.get('/tasks', async (req, res) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const query = parseOrThrow(listTasksQuerySchema, req.query);
    const after = positionOfCursor(query.cursor);
    const [decision] = await permissions.authorizeConditional(
      [{ permission: taskReadPermission }],
      { credentials },
    );
    if (decision.result === AuthorizeResult.DENY) {
      throw new NotAllowedError(`Not allowed: ${taskReadPermission.name}`);
    }
    let permissionFilter: TaskFilter | undefined =
      decision.result === AuthorizeResult.CONDITIONAL
        ? toFilter(decision.conditions)
        : undefined;
    if (query.mine) {
      if (!isUserPrincipal(credentials)) {
        throw new RequestValidationError([
          { path: 'mine', message: 'is only for signed-in users' },
        ]);
      }
      // Mine: owned by me or by one of my groups, as the identity says (what "my tasks" means to a lab).
      const mine: TaskFilter = {
        property: 'owner',
        values: await ownershipRefsOf(credentials),
      };
      permissionFilter = permissionFilter
        ? { allOf: [permissionFilter, mine] }
        : mine;
    }
    const filters = {
      state: query.state as TaskState | undefined,
      text: query.text,
      instrument: query.instrument,
      owner: query.owner,
      permissionFilter,
    };
    const [page, total] = await Promise.all([
      store.listTasks({
        ...filters,
        limit: query.limit ?? DEFAULT_PAGE_SIZE,
        after,
      }),
      query.count ? store.countTasks(filters, TASK_COUNT_CAP) : undefined,
    ]);
    res.json({
      items: page.items,
      nextCursor: nextCursorOf(page),
      ...(total ? { total } : {}),
    });
  });

  router.get('/tasks/:id', async (req, res) => {
    const { task } = await authorizedTask(
      req,
      req.params.id,
      taskReadPermission,
    );
    res.json(task);
  });

  router.patch('/tasks/:id', async (req, res) => {
    requireJsonBody(req);
    const body = parseOrThrow(taskRequestSchemas.update, req.body);
    const version = expectedVersion(req, body.version);
    if (version === undefined) {
      throw new RequestValidationError([
        {
          path: 'version',
          message: 'is required (in the body or an If-Match header)',
        },
      ]);
    }
    const { task, credentials } = await authorizedTask(
      req,
      req.params.id,
      taskUpdatePermission,
    );
    const nowMs = now();
    const errors: FieldError[] = [];
    const changes: Partial<NewTaskFields> = {};
    if (body.name !== undefined) changes.name = body.name;
    if (body.description !== undefined) changes.description = body.description;
    if (body.owner !== undefined) changes.owner = body.owner;
    if (body.instrumentRef !== undefined)
      changes.instrumentRef = body.instrumentRef;
    if (body.measurement !== undefined) changes.measurement = body.measurement;
    if (body.policies !== undefined)
      changes.policies = { ...task.policies, ...body.policies };
    if (body.schedule !== undefined) {
      errors.push(...validateScheduleTiming(body.schedule, nowMs));
      changes.schedule = body.schedule;
    }
    if (errors.length === 0 && body.owner !== undefined) {
      errors.push(...(await ownerErrors(credentials, body.owner)));
    }
    if (
      errors.length === 0 &&
      (body.instrumentRef !== undefined || body.measurement !== undefined)
    ) {
      errors.push(
        ...(await instruments.validate(
          body.instrumentRef ?? task.instrumentRef,
          (body.measurement ?? task.measurement).type,
        )),
      );
    }
    if (errors.length > 0) throw new RequestValidationError(errors);
    if (
      body.instrumentRef !== undefined &&
      body.instrumentRef !== task.instrumentRef
    ) {
      changes.policies = {
        ...(changes.policies ?? task.policies),
        instrumentConcurrency: await instruments.capacity(body.instrumentRef),
      };
    }
    const updated = await tasks.update(task, version, changes, {
      actor: actorOf(credentials),
      nowMs,
    });
    res.json(updated);
  });

  router.delete('/tasks/:id', async (req, res) => {
    const version = expectedVersion(req, undefined);
    const { task, credentials } = await authorizedTask(
      req,
      req.params.id,
      taskDeletePermission,
    );
    await tasks.delete(task, version, {
      actor: actorOf(credentials),
      nowMs: now(),
    });
    logger.info('Task deleted', {
      taskId: task.id,
      actor: actorOf(credentials),
    });
    res.status(204).end();
  });

  router.post('/tasks/:id/pause', async (req, res) => {
    const { task, credentials } = await authorizedTask(
      req,
      req.params.id,
      taskUpdatePermission,
    );
    res.json(
      await tasks.pause(task, { actor: actorOf(credentials), nowMs: now() }),
    );
  });

  router.post('/tasks/:id/resume', async (req, res) => {
    const { task, credentials } = await authorizedTask(
      req,
      req.params.id,
      taskUpdatePermission,
    );
    res.json(
      await tasks.resume(task, { actor: actorOf(credentials), nowMs: now() }),
    );
  });

  router.post('/tasks/:id/trigger', async (req, res) => {
    const { task, credentials } = await authorizedTask(
      req,
      req.params.id,
      taskUpdatePermission,
    );
    let run;
    try {
      run = await tasks.runNow(task, {
        actor: actorOf(credentials),
        nowMs: now(),
      });
    } catch (error) {
      if (error instanceof ConflictError) {
        logger.info('Run now refused', {
          taskId: task.id,
          actor: actorOf(credentials),
          reason: error.message,
        });
      }
      throw error;
    }
    logger.info('Task triggered', {
      taskId: task.id,
      runId: run.id,
      actor: actorOf(credentials),
    });
    res.status(202).json(run);
  });

  router.get('/tasks/:id/runs', async (req, res) => {
    const query = parseOrThrow(pageQuerySchema, req.query);
    const after = positionOfCursor(query.cursor);
    const { task } = await authorizedTask(
      req,
      req.params.id,
      taskReadPermission,
    );
    const page = await store.listRuns(task.id, {
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      after,
    });
    res.json({
      items: page.items,
      nextCursor: nextCursorOf(page),
    });
  });

  router.get('/tasks/:id/audit', async (req, res) => {
    const query = parseOrThrow(pageQuerySchema, req.query);
    const after = positionOfCursor(query.cursor);
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const id = requireUuid(req.params.id);
    // Deleted tasks are soft-deleted: their trail stays readable to their owner and to services.
    const record = await store.getTaskRecord(id);
    if (!record) throw new NotFoundError(`Task ${id} not found`);
    const { task, deleted } = record;
    // The read permission first: a caller who may not read the task learns nothing of it (the refusal
    // below names the owner, which any reader of the task sees anyway).
    await requireTaskPermission(credentials, taskReadPermission, task);
    if (
      deleted &&
      isUserPrincipal(credentials) &&
      !(await ownershipRefsOf(credentials)).includes(task.owner)
    ) {
      throw denied(
        credentials,
        `Task ${task.id} is deleted: only its owner (${task.owner}) and services may read its audit trail`,
        { taskId: task.id },
      );
    }
    const page = await store.listAudit(task.id, {
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      after,
    });
    res.json({
      items: page.items,
      nextCursor: nextCursorOf(page),
    });
  });

  /** Loads a run the caller may read (404 for an unknown run or task, 403 when reading is denied). */
  async function readableRun(req: AnyRequest) {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const run = await store.getRun(requireUuid(req.params.id));
    const task = run && (await store.getTask(run.taskId));
    if (!run || !task)
      throw new NotFoundError(`Run ${req.params.id} not found`);
    await requireTaskPermission(credentials, taskReadPermission, task);
    return run;
  }

  router.get('/runs/:id', async (req, res) => {
    res.json(await readableRun(req));
  });

  router.get('/runs/:id/events', async (req, res) => {
    const run = await readableRun(req);
    if (!options.runStates)
      throw new NotFoundError('Run events are not enabled');
    res.json({ items: await options.runStates.listRunEvents(run.id) });
  });

  router.get('/runs/:id/raw', async (req, res) => {
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
    res.type('application/json');
    res.sendFile(file);
  });

  router.post('/runs/:id/events', async (req, res) => {
    requireJsonBody(req);
    // Only services (the executor) report run events; users cannot forge results.
    const credentials = await httpAuth.credentials(req, { allow: ['service'] });
    const runId = requireUuid(req.params.id);
    const event = parseOrThrow(runEventSchema, req.body);
    if (!options.runStates)
      throw new NotFoundError('Run events are not enabled');
    const run = await store.getRun(runId);
    if (!run) throw new NotFoundError(`Run ${runId} not found`);
    await requireTaskPermission(
      credentials,
      runReportPermission,
      await store.getTask(run.taskId),
    );
    const ids = { runId, taskId: run.taskId };
    // The message's claim token is the capability to report on this run: a principal that has not
    // received the run's current message (a script, another plugin) cannot start, finish or fail it.
    const report = {
      actor: actorOf(credentials),
      claimToken: event.claimToken,
      nowMs: now(),
    };
    if (event.type === 'started') {
      const { proceed, run: updated } = await options.runStates.start(
        runId,
        event.attempt,
        report,
      );
      logger.info(proceed ? 'Run started' : 'Duplicate start refused', {
        ...ids,
        status: updated.status,
      });
      if (proceed) options.onRunStarted?.();
      res.json({ proceed, status: updated.status, run: updated });
      return;
    }
    if (event.type === 'succeeded') {
      const updated = await options.runStates.succeed(
        runId,
        event.result,
        report,
      );
      logger.info('Run succeeded', { ...ids, qc: event.result.qc.status });
      options.onRunFinished?.();
      res.json(updated);
      return;
    }
    const updated = await options.runStates.fail(
      runId,
      {
        error: event.error,
        retrying: event.retrying,
        deadLettered: event.deadLettered,
      },
      report,
    );
    logger.warn('Run failed', {
      ...ids,
      status: updated.status,
      retrying: event.retrying,
      error: event.error,
    });
    if (!event.retrying) options.onRunFinished?.();
    res.json(updated);
  });

  router.use(
    createCalendarRoutes({
      store,
      runQueue: options.runQueue,
      instruments,
      httpAuth,
      permissions,
      taskRules: options.taskRules,
      now,
      measurementTypes,
    }),
  );

  router.use(bodyParserErrors({ maxBodySize }));
  router.use(unavailableHandler(logger));
  router.use(validationDetails);

  return router;
}
