import { LoggerService } from '@backstage/backend-plugin-api';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import {
  FAILURE_RUN_OUTCOME_KINDS,
  MeasurementTypeLookup,
  Run,
  RunOutcome,
  runOutcomeLabel,
  TaskNotifyPolicy,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { KeysetColumns, orderByKeyset, whereAfter } from '../database/keyset';
import { runFromRow } from '../database/rows';
import {
  NOTIFICATION_STATE as STATE,
  RUNS,
  TASK_NOTIFICATIONS as SENT,
  TASKS,
} from '../database/tables';

/** Oldest finished first, as the recent results index (finished_at, id) reads them. */
const FINISHED_ORDER: KeysetColumns = {
  key: 'r.finished_at',
  id: 'r.id',
  direction: 'asc',
};

/** The Backstage notification topic of every Lab Scheduler notification (users can mute it). */
export const NOTIFICATION_TOPIC = 'lab-scheduler';

/** The zone of a stored schedule (JSON); UTC for one entered without one. */
function scheduleTimeZone(schedule: unknown): string {
  try {
    const parsed =
      typeof schedule === 'string' ? JSON.parse(schedule) : schedule;
    return typeof parsed?.timezone === 'string' ? parsed.timezone : 'UTC';
  } catch {
    return 'UTC';
  }
}

/**
 * An instant as a lab reads it in a notification: the task's wall clock, with its zone named
 * ("Sun 29 Nov 2026, 09:30 (Europe/Berlin)"), not a UTC timestamp.
 */
export function wallClock(iso: string, timeZone: string): string {
  const text = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(iso));
  return `${text} (${timeZone})`;
}

export interface RunNotifierOptions {
  knex: Knex;
  notifications: NotificationService;
  logger: LoggerService;
  /** At most one notification per task in this many milliseconds; later runs are counted into the next. */
  windowMs: number;
  /**
   * Runs are read once they finished at least this long ago, so that a run whose transaction commits
   * after a later one's is not skipped by the read position. Default 5 000.
   */
  settleMs?: number;
  /** Runs read per round. Default 500. */
  batchSize?: number;
  /**
   * The backend's measurement types: a failed QC check is named by its type's label for it ("QC fail:
   * CV", as the run page and its chip say), not by its key. Without them, keys.
   */
  measurementTypes?: MeasurementTypeLookup;
}

/** Whether a policy asks to hear about an outcome. */
export function wantsNotification(
  policy: TaskNotifyPolicy,
  outcome: RunOutcome,
): boolean {
  if (policy === 'every_run') return true;
  if (policy === 'failures')
    return FAILURE_RUN_OUTCOME_KINDS.includes(outcome.kind);
  return false;
}

function severityOf(outcome: RunOutcome) {
  if (outcome.kind === 'dead_lettered') return 'critical' as const;
  return FAILURE_RUN_OUTCOME_KINDS.includes(outcome.kind)
    ? ('high' as const)
    : ('normal' as const);
}

/**
 * Tells task owners about finished runs through Backstage notifications: reads the runs finished since
 * its last position (finished_at, id — the recent-results index), keeps those the task's `notify` policy
 * asks for, and sends at most one notification per task per window; runs inside the window are counted
 * and named in the next one. Runs on one host at a time (Backstage scheduler, global scope); the position
 * and the per-task times live in the database, so a restart neither repeats nor loses notifications.
 * A notifications backend that is absent or failing costs a warning, never a run.
 */
export class RunNotifier {
  constructor(private readonly options: RunNotifierOptions) {}

  /** One round. Returns the number of notifications sent. */
  async notifyFinishedRuns(nowMs: number): Promise<number> {
    const { knex } = this.options;
    const settled = nowMs - (this.options.settleMs ?? 5000);
    const position = await knex(STATE).where('id', 1).first();
    if (!position) {
      // First round ever: start from now; runs that finished before the notifier existed stay quiet.
      await knex(STATE)
        .insert({ id: 1, finished_at: settled, run_id: '' })
        .onConflict('id')
        .ignore();
      return 0;
    }
    const query = knex(`${RUNS} as r`)
      .join(`${TASKS} as t`, 't.id', 'r.task_id')
      .select(
        'r.*',
        't.name as task_name',
        't.owner as task_owner',
        't.notify_policy as task_notify_policy',
        't.deleted_at as task_deleted_at',
        't.schedule as task_schedule',
        't.measurement_type as task_measurement_type',
      )
      .whereNotNull('r.finished_at')
      .where('r.finished_at', '<=', settled);
    whereAfter(query, FINISHED_ORDER, {
      k: Number(position.finished_at),
      id: position.run_id,
    });
    orderByKeyset(query, FINISHED_ORDER);
    const rows = await query.limit(this.options.batchSize ?? 500);
    let sent = 0;
    for (const row of rows) {
      const run = runFromRow(row);
      const outcome = run.outcome!;
      if (
        row.task_deleted_at === null &&
        wantsNotification(row.task_notify_policy, outcome) &&
        (await this.notify({
          run,
          outcome,
          taskName: row.task_name,
          measurementType:
            (run.result as { measurementType?: string } | null)
              ?.measurementType ?? row.task_measurement_type,
          timeZone: scheduleTimeZone(row.task_schedule),
          owner: row.task_owner,
          nowMs,
        }))
      )
        sent++;
      await knex(STATE)
        .where('id', 1)
        .update({ finished_at: Number(row.finished_at), run_id: row.id });
    }
    return sent;
  }

  /** Sends one notification unless the task's window is still open (then counts the run). */
  private async notify(finished: {
    run: Run;
    outcome: RunOutcome;
    taskName: string;
    /** What the run measured: names its QC checks. */
    measurementType: string;
    /** The zone the task's schedule was entered in: the run's time is given in it. */
    timeZone: string;
    /** The task's owner: the notification's recipient. */
    owner: string;
    nowMs: number;
  }): Promise<boolean> {
    const { run, outcome, taskName, timeZone, owner, nowMs } = finished;
    const fields = this.options.measurementTypes?.get(
      finished.measurementType,
    )?.summaryFields;
    const { knex, windowMs, logger } = this.options;
    const last = await knex(SENT).where('task_id', run.taskId).first();
    if (last && Number(last.last_sent_at) > nowMs - windowMs) {
      await knex(SENT).where('task_id', run.taskId).increment('suppressed', 1);
      return false;
    }
    const suppressed = last ? Number(last.suppressed) : 0;
    const label = runOutcomeLabel(outcome, {
      checkLabel: check =>
        (fields && Object.hasOwn(fields, check) && fields[check]?.label) ||
        check,
    });
    try {
      await this.options.notifications.send({
        recipients: { type: 'entity', entityRef: owner },
        payload: {
          title: `${taskName}: ${label}`,
          description: [
            `Run scheduled for ${wallClock(
              run.scheduledFor,
              timeZone,
            )} finished: ${label}.`,
            run.error ? `Error: ${run.error}` : '',
            suppressed > 0
              ? `${suppressed} earlier run${
                  suppressed === 1 ? '' : 's'
                } of this task also finished without a notification (at most one per task per window).`
              : '',
          ]
            .filter(Boolean)
            .join(' '),
          link: `/lab-scheduler/runs/${run.id}`,
          severity: severityOf(outcome),
          topic: NOTIFICATION_TOPIC,
        },
      });
    } catch (error) {
      logger.warn('Could not send a run notification', {
        runId: run.id,
        taskId: run.taskId,
        error: String(error),
      });
      return false;
    }
    await knex(SENT)
      .insert({ task_id: run.taskId, last_sent_at: nowMs, suppressed: 0 })
      .onConflict('task_id')
      .merge();
    return true;
  }
}
