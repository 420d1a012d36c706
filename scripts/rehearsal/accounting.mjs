// Per-phase accounting from the plugin's database (runs and tasks), the harness's deliveries and the gateway's
// measurement counts.
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const require = createRequire(join(root, 'package.json'));

export const FINAL = [
  'succeeded',
  'failed',
  'dead_lettered',
  'skipped',
  'cancelled',
];

export function openPluginDatabase(postgres) {
  const knex = require('knex');
  return knex({
    client: 'pg',
    connection: {
      host: postgres.host,
      port: postgres.port,
      user: postgres.user,
      database: 'backstage_plugin_lab-scheduler',
      ...(postgres.ca ? { ssl: { ca: postgres.ca } } : {}),
    },
    pool: { min: 0, max: 4 },
  });
}

/** The runs of a set of one-time tasks: one row per task, with its run's columns when it has one. */
export async function runsOf(db, taskIds) {
  const rows = [];
  for (let i = 0; i < taskIds.length; i += 1000) {
    rows.push(
      ...(await db('lab_scheduler_tasks as t')
        .leftJoin('lab_scheduler_runs as r', 'r.task_id', 't.id')
        .whereIn('t.id', taskIds.slice(i, i + 1000))
        .select(
          't.id as task_id',
          't.schedule',
          'r.id as run_id',
          'r.status',
          'r.scheduled_for',
          'r.claimed_by',
          'r.published_at',
          'r.started_at',
          'r.finished_at',
          'r.attempt',
        )),
    );
  }
  return rows.map(r => ({
    ...r,
    occurrence: Date.parse(JSON.parse(r.schedule).at),
    scheduled_for: r.scheduled_for === null ? null : Number(r.scheduled_for),
    published_at: r.published_at === null ? null : Number(r.published_at),
    started_at: r.started_at === null ? null : Number(r.started_at),
    finished_at: r.finished_at === null ? null : Number(r.finished_at),
  }));
}

/** Waits until every task of the phase has a final run, or `timeoutMs`; returns the rows and whether it settled. */
export async function waitQuiescent(db, taskIds, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await runsOf(db, taskIds);
    const open = rows.filter(r => !FINAL.includes(r.status)).length;
    if (open === 0) return { rows, settled: true };
    if (Date.now() > deadline) return { rows, settled: false };
    await new Promise(r => setTimeout(r, 1_000));
  }
}

const quantile = (sorted, q) =>
  sorted.length === 0
    ? null
    : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/**
 * The phase's figures. `recoveryFrom`: the instant from which stuck runs are expected to recover (the fault's
 * start for replica faults, the end of an outage for infrastructure faults).
 */
export function account({
  phase,
  rows,
  deliveries,
  gatewayCounts,
  recoveryFrom,
  settled,
  now = Date.now(),
}) {
  const byTask = new Map();
  for (const r of rows) {
    if (!byTask.has(r.task_id)) byTask.set(r.task_id, []);
    if (r.run_id) byTask.get(r.task_id).push(r);
  }
  const runs = rows.filter(r => r.run_id);
  const runIds = new Set(runs.map(r => r.run_id));

  const messagesByRun = new Map();
  const deliveriesByRun = new Map();
  const firstSentByRun = new Map();
  for (const d of deliveries) {
    if (!runIds.has(d.runId)) continue;
    if (!messagesByRun.has(d.runId)) messagesByRun.set(d.runId, new Set());
    messagesByRun.get(d.runId).add(d.messageId);
    deliveriesByRun.set(d.runId, (deliveriesByRun.get(d.runId) ?? 0) + 1);
    const first = firstSentByRun.get(d.runId);
    if (first === undefined || d.sentTimestamp < first)
      firstSentByRun.set(d.runId, d.sentTimestamp);
  }

  const status = {};
  for (const r of runs) status[r.status] = (status[r.status] ?? 0) + 1;
  const lost = [...byTask.values()].filter(
    list => !list.some(r => FINAL.includes(r.status)),
  ).length;
  const duplicateRuns = [...byTask.values()].reduce(
    (n, list) => n + Math.max(0, list.length - 1),
    0,
  );
  const nonFinal = runs.filter(r => !FINAL.includes(r.status));

  let duplicateMessages = 0;
  let maxMessagesPerRun = 0;
  for (const ids of messagesByRun.values()) {
    duplicateMessages += ids.size - 1;
    maxMessagesPerRun = Math.max(maxMessagesPerRun, ids.size);
  }
  const deliveriesTotal = [...deliveriesByRun.values()].reduce(
    (a, b) => a + b,
    0,
  );

  let measurementsStarted = 0;
  let measurementsCompleted = 0;
  let measurementsAborted = 0;
  let duplicateCompleted = 0;
  const duplicateCompletedRunIds = [];
  let succeededWithoutMeasurement = 0;
  for (const r of runs) {
    const c = gatewayCounts.get(r.run_id) ?? {
      started: 0,
      completed: 0,
      aborted: 0,
    };
    measurementsStarted += c.started;
    measurementsCompleted += c.completed;
    measurementsAborted += c.aborted;
    duplicateCompleted += Math.max(0, c.completed - 1);
    // The first few, to find them in the Lambda and backend logs.
    if (c.completed > 1 && duplicateCompletedRunIds.length < 5)
      duplicateCompletedRunIds.push(r.run_id);
    if (r.status === 'succeeded' && c.completed === 0)
      succeededWithoutMeasurement += 1;
  }

  const dispatchDelays = [];
  let recoveryMs = 0;
  for (const r of runs) {
    const sent = firstSentByRun.get(r.run_id);
    if (sent === undefined) continue;
    dispatchDelays.push(sent - r.occurrence);
    if (recoveryFrom !== undefined)
      recoveryMs = Math.max(
        recoveryMs,
        sent - Math.max(r.occurrence, recoveryFrom),
      );
  }
  dispatchDelays.sort((a, b) => a - b);
  const openMs = runs
    .map(r => (r.finished_at ?? now) - r.occurrence)
    .sort((a, b) => a - b);

  return {
    phase,
    settled,
    occurrences: byTask.size,
    runRows: runs.length,
    maxRunsPerOccurrence: Math.max(
      0,
      ...[...byTask.values()].map(l => l.length),
    ),
    duplicateRuns,
    status,
    lostRuns: lost,
    stuckRuns: nonFinal.length,
    longestNonFinalMs: openMs.at(-1) ?? null,
    messages: [...messagesByRun.values()].reduce((n, s) => n + s.size, 0),
    duplicateMessages,
    maxMessagesPerRun,
    deliveries: deliveriesTotal,
    runsWithoutMessage: runs.filter(r => !messagesByRun.has(r.run_id)).length,
    measurementsStarted,
    measurementsCompleted,
    measurementsAborted,
    duplicateCompletedMeasurements: duplicateCompleted,
    duplicateCompletedRunIds,
    succeededWithoutMeasurement,
    dispatchDelayMs: {
      p50: quantile(dispatchDelays, 0.5),
      p99: quantile(dispatchDelays, 0.99),
      max: dispatchDelays.at(-1) ?? null,
    },
    recoveryMs: recoveryFrom === undefined ? null : recoveryMs,
  };
}
