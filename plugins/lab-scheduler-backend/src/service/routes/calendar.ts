import {
  BackstageCredentials,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  createConditionAuthorizer,
  createConditionTransformer,
} from '@backstage/plugin-permission-node';
import {
  CalendarEntry,
  CalendarResponse,
  ClashReport,
  clashWithin,
  entityRefSchema,
  expectedDurationMs,
  MeasurementTypeLookup,
  isoInstantSchema,
  Interval,
  KeysetPosition,
  MAX_CALENDAR_ENTRIES,
  MAX_CALENDAR_WINDOW_DAYS,
  occurrencesBetween,
  scheduleSchema,
  Task,
  taskReadPermission,
  toFieldErrors,
  upcomingOccurrences,
  WaitingReason,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import express, { Request } from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import {
  InstrumentLine,
  RunQueue,
  WaitingRunRow,
} from '../../database/RunQueue';
import { TaskFilter, TaskStore } from '../../database/TaskStore';
import { TaskPermissionRuleset } from '../../permissions/rules';
import { RequestValidationError } from '../errors';
import { InstrumentCatalog } from '../InstrumentCatalog';

/**
 * The instrument calendar (`GET /calendar`), clash warnings for a draft schedule
 * (`POST /calendar/clashes`) and why runs are waiting (`GET /waiting-reasons`). Occurrences are computed
 * here, with the dispatcher's schedule maths, from the tasks the caller may read (filtered in SQL), within
 * a bounded window and count, instead of shipping every task to the browser.
 */
export interface CalendarRoutesOptions {
  store: TaskStore;
  runQueue: RunQueue;
  instruments: InstrumentCatalog;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  /** The task rules from the permission registry: conditional read decisions applied in SQL. */
  taskRules: TaskPermissionRuleset;
  now: () => number;
  /** How long each measurement type holds its instrument. Default: the built-in types. */
  measurementTypes?: MeasurementTypeLookup;
}

const DAY_MS = 86_400_000;
const DEFAULT_WINDOW_MS = 7 * DAY_MS;
/** Tasks read per calendar or clash request; beyond it the answer says `truncated`. */
const MAX_TASKS = 500;
/** Occurrences computed per request, all tasks together: bounds the work of every-minute crons. */
const OCCURRENCE_BUDGET = 4 * MAX_CALENDAR_ENTRIES;
const MAX_CLASH_COUNT = 20;
const DEFAULT_CLASH_COUNT = 5;
const MAX_WAITING_IDS = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const queryString = z.string({ error: 'must be given once, as a string' });

const calendarQuerySchema = z
  .strictObject({
    from: queryString.pipe(isoInstantSchema).optional(),
    to: queryString.pipe(isoInstantSchema).optional(),
    instrument: queryString.pipe(entityRefSchema).optional(),
  })
  .superRefine((q, ctx) => {
    if (q.from && q.to) {
      const span = Date.parse(q.to) - Date.parse(q.from);
      if (span <= 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['to'],
          message: 'must be after from',
        });
      } else if (span > MAX_CALENDAR_WINDOW_DAYS * DAY_MS) {
        ctx.addIssue({
          code: 'custom',
          path: ['to'],
          message: `must be at most ${MAX_CALENDAR_WINDOW_DAYS} days after from`,
        });
      }
    }
  });

const clashRequestSchema = z.strictObject({
  instrumentRef: entityRefSchema,
  measurementType: z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    .max(100, 'must be at most 100 characters'),
  schedule: scheduleSchema,
  taskId: z
    .string({ error: 'must be a string' })
    .regex(UUID, 'must be a UUID')
    .transform(s => s.toLowerCase())
    .optional(),
  count: z
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1, `must be from 1 to ${MAX_CLASH_COUNT}`)
    .max(MAX_CLASH_COUNT, `must be from 1 to ${MAX_CLASH_COUNT}`)
    .optional(),
});

const waitingQuerySchema = z.strictObject({
  ids: queryString.superRefine((value, ctx) => {
    const ids = value.split(',');
    if (ids.length > MAX_WAITING_IDS) {
      ctx.addIssue({
        code: 'custom',
        message: `must list at most ${MAX_WAITING_IDS} run ids`,
      });
    } else if (!ids.every(id => UUID.test(id))) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be run ids (UUIDs) separated by commas',
      });
    }
  }),
});

function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success)
    throw new RequestValidationError(toFieldErrors(result.error));
  return result.data;
}

function entityName(ref: string): string {
  return ref.slice(ref.indexOf('/') + 1);
}

const plural = (n: number, one: string, many = `${one}s`) =>
  `${n} ${n === 1 ? one : many}`;

/** Why a pending or queued run has not started, from its row and its instrument's line. */
export function waitingReasonOf(
  run: WaitingRunRow,
  instrumentRef: string,
  capacity: number | null,
  line: InstrumentLine,
  nowMs: number,
): WaitingReason {
  const name = entityName(instrumentRef);
  const position = line.waiting.findIndex(w => w.id === run.id);
  const ahead = position >= 0 ? position : 0;
  const base = {
    runId: run.id,
    status: run.status,
    instrumentRef,
    capacity,
    busy: line.busy,
    ahead,
  };
  const aheadText = ahead > 0 ? `, ${plural(ahead, 'run')} ahead` : '';
  if (run.status === 'queued') {
    return {
      ...base,
      code: 'queued',
      message: `Sent to ${name}; waiting for the executor to start it`,
    };
  }
  if (run.scheduledFor > nowMs) {
    return { ...base, code: 'not-due', message: 'Not due yet' };
  }
  if (run.slot === null && capacity !== null && line.busy >= capacity) {
    return {
      ...base,
      code: 'instrument-busy',
      message: `Waiting for ${name} (${plural(capacity, 'run')} at a time, ${
        line.busy
      } in progress)${aheadText}`,
    };
  }
  if (run.publishFailures > 0) {
    return {
      ...base,
      code: 'publish-retry',
      message: `The queue refused it ${plural(run.publishFailures, 'time')}${
        run.error ? ` (${run.error.slice(0, 200)})` : ''
      }; retrying`,
    };
  }
  return {
    ...base,
    code: 'dispatching',
    message: `Due; being sent to ${name}${aheadText}`,
  };
}

export function createCalendarRoutes(
  options: CalendarRoutesOptions,
): express.Router {
  const { store, runQueue, instruments, httpAuth, permissions, now } = options;
  const durationMs = (measurementType: string) =>
    expectedDurationMs(measurementType, options.measurementTypes);
  const toFilter = createConditionTransformer(options.taskRules);
  const isAllowedBy = createConditionAuthorizer(options.taskRules);
  const router = Router();

  /** The caller's read decision over tasks; 403 when they may read none. */
  async function readDecision(req: Request): Promise<PolicyDecision> {
    const credentials: BackstageCredentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const [decision] = await permissions.authorizeConditional(
      [{ permission: taskReadPermission }],
      { credentials },
    );
    if (decision.result === AuthorizeResult.DENY) {
      throw new NotAllowedError(`Not allowed: ${taskReadPermission.name}`);
    }
    return decision;
  }

  const mayRead = (decision: PolicyDecision, task: Task) =>
    decision.result === AuthorizeResult.ALLOW ||
    (decision.result === AuthorizeResult.CONDITIONAL &&
      isAllowedBy(decision, task));

  /**
   * Active tasks due before `beforeMs` (the list's next-run order lets the scan stop at the first one
   * due later) and, with `includePaused`, paused tasks; at most MAX_TASKS.
   */
  async function tasksInWindow(query: {
    instrument?: string;
    permissionFilter?: TaskFilter;
    beforeMs: number;
    includePaused: boolean;
  }): Promise<{ tasks: Task[]; truncated: boolean }> {
    const tasks: Task[] = [];
    const states = query.includePaused
      ? (['active', 'paused'] as const)
      : (['active'] as const);
    for (const state of states) {
      let after: KeysetPosition | undefined;
      let more = true;
      while (more) {
        const page = await store.listTasks({
          state,
          instrument: query.instrument,
          permissionFilter: query.permissionFilter,
          limit: 200,
          after,
        });
        more = page.next !== undefined;
        after = page.next;
        for (const task of page.items) {
          if (
            state === 'active' &&
            (task.nextRunAt === null ||
              Date.parse(task.nextRunAt) >= query.beforeMs)
          ) {
            more = false;
            break;
          }
          if (tasks.length === MAX_TASKS) return { tasks, truncated: true };
          tasks.push(task);
        }
      }
    }
    return { tasks, truncated: false };
  }

  /** Where the dispatcher's next occurrence of a task is at the earliest (paused: from now on). */
  const earliestOccurrence = (task: Task, nowMs: number) =>
    task.state === 'active' && task.nextRunAt
      ? Date.parse(task.nextRunAt)
      : nowMs;

  router.get('/calendar', async (req, res) => {
    const query = parseOrThrow(calendarQuerySchema, req.query);
    const decision = await readDecision(req);
    const nowMs = now();
    const fromMs = query.from ? Date.parse(query.from) : nowMs;
    const toMs = query.to ? Date.parse(query.to) : fromMs + DEFAULT_WINDOW_MS;
    // Checked again here: `from` may be the current time rather than a given value.
    if (toMs <= fromMs || toMs - fromMs > MAX_CALENDAR_WINDOW_DAYS * DAY_MS) {
      throw new RequestValidationError([
        {
          path: 'to',
          message: `must be after from, by at most ${MAX_CALENDAR_WINDOW_DAYS} days`,
        },
      ]);
    }
    const { tasks, truncated: tooManyTasks } = await tasksInWindow({
      instrument: query.instrument,
      permissionFilter:
        decision.result === AuthorizeResult.CONDITIONAL
          ? toFilter(decision.conditions)
          : undefined,
      beforeMs: toMs,
      includePaused: true,
    });
    const items: CalendarEntry[] = [];
    let budget = OCCURRENCE_BUDGET;
    let truncated = tooManyTasks;
    for (const task of tasks) {
      const runMs = durationMs(task.measurement.type);
      // Runs that started before the window but still hold the instrument in it are drawn too.
      const start = Math.max(
        fromMs - runMs + 1,
        earliestOccurrence(task, nowMs),
      );
      const occurrences = occurrencesBetween(
        task.schedule,
        start,
        toMs,
        Math.min(budget, MAX_CALENDAR_ENTRIES) + 1,
      );
      if (occurrences.length > Math.min(budget, MAX_CALENDAR_ENTRIES)) {
        truncated = true;
        occurrences.pop();
      }
      budget -= occurrences.length;
      for (const at of occurrences) {
        items.push({
          taskId: task.id,
          taskName: task.name,
          instrumentRef: task.instrumentRef,
          measurementType: task.measurement.type,
          start: new Date(at).toISOString(),
          end: new Date(at + runMs).toISOString(),
          taskState: task.state as CalendarEntry['taskState'],
        });
      }
      if (budget <= 0) {
        truncated = true;
        break;
      }
    }
    items.sort(
      (a, b) =>
        a.start.localeCompare(b.start) || a.taskId.localeCompare(b.taskId),
    );
    if (items.length > MAX_CALENDAR_ENTRIES) {
      truncated = true;
      items.length = MAX_CALENDAR_ENTRIES;
    }
    const body: CalendarResponse = {
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      items,
      truncated,
    };
    res.json(body);
  });

  router.post('/calendar/clashes', async (req, res) => {
    if (!req.is('application/json')) {
      throw new RequestValidationError([
        {
          path: 'body',
          message: 'must be JSON (Content-Type: application/json)',
        },
      ]);
    }
    const body = parseOrThrow(clashRequestSchema, req.body);
    const decision = await readDecision(req);
    const nowMs = now();
    const capacity = await instruments.capacity(body.instrumentRef);
    const runMs = durationMs(body.measurementType);
    const drafts: Interval[] = upcomingOccurrences(
      body.schedule,
      nowMs,
      body.count ?? DEFAULT_CLASH_COUNT,
    ).map(start => ({ start, end: start + runMs }));
    const lastEnd = drafts.length ? drafts[drafts.length - 1].end : nowMs;

    // Every active task on the instrument counts, readable or not: the instrument is busy either way.
    const { tasks } = await tasksInWindow({
      instrument: body.instrumentRef,
      beforeMs: lastEnd,
      includePaused: false,
    });
    const others = tasks.filter(t => t.id !== body.taskId);
    const byId = new Map(others.map(t => [t.id, t]));
    const busy: (Interval & { task: Task | undefined })[] = [];
    for (const run of await runQueue.activeRuns(body.instrumentRef)) {
      if (run.taskId === body.taskId) continue;
      const task = byId.get(run.taskId) ?? (await store.getTask(run.taskId));
      const start = run.startedAt ?? Math.max(run.scheduledFor, nowMs);
      const end = start + durationMs(task?.measurement.type ?? '');
      if (end > nowMs) busy.push({ start, end, task });
    }
    const occurrences = drafts.map(draft => {
      const around = [...busy];
      for (const task of others) {
        const otherMs = durationMs(task.measurement.type);
        const from = Math.max(
          draft.start - otherMs + 1,
          earliestOccurrence(task, nowMs),
        );
        for (const start of occurrencesBetween(
          task.schedule,
          from,
          draft.end,
          100,
        )) {
          around.push({ start, end: start + otherMs, task });
        }
      }
      const clash = clashWithin(draft, around, capacity);
      return {
        start: new Date(draft.start).toISOString(),
        end: new Date(draft.end).toISOString(),
        overCapacityMs: clash.overCapacityMs,
        overlaps: clash.overlaps.map(({ index, overlapMs }) => {
          const other = around[index];
          return {
            start: new Date(other.start).toISOString(),
            end: new Date(other.end).toISOString(),
            overlapMs,
            // Another team's task stays anonymous: only that the instrument is busy.
            task:
              other.task && mayRead(decision, other.task)
                ? { id: other.task.id, name: other.task.name }
                : null,
          };
        }),
      };
    });
    const report: ClashReport = {
      instrumentRef: body.instrumentRef,
      capacity,
      durationMs: runMs,
      occurrences,
    };
    res.json(report);
  });

  router.get('/waiting-reasons', async (req, res) => {
    const query = parseOrThrow(waitingQuerySchema, req.query);
    const decision = await readDecision(req);
    const nowMs = now();
    const ids = [...new Set(query.ids.split(',').map(id => id.toLowerCase()))];
    const runs = await runQueue.waitingRuns(ids);
    const tasks = new Map(
      (await store.getTasks([...new Set(runs.map(r => r.taskId))])).map(t => [
        t.id,
        t,
      ]),
    );
    const lines = new Map<string, InstrumentLine>();
    const items: WaitingReason[] = [];
    for (const run of runs) {
      const task = tasks.get(run.taskId);
      // Runs of tasks the caller may not read are left out, as if unknown.
      if (!task || !mayRead(decision, task)) continue;
      const instrumentRef = run.instrumentRef ?? task.instrumentRef;
      let line = lines.get(instrumentRef);
      if (!line) {
        line = await runQueue.line(instrumentRef, nowMs);
        lines.set(instrumentRef, line);
      }
      items.push(
        waitingReasonOf(
          run,
          instrumentRef,
          task.policies.instrumentConcurrency,
          line,
          nowMs,
        ),
      );
    }
    res.json({ items });
  });

  return router;
}
