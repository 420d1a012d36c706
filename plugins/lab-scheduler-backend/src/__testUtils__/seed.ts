import {
  DEFAULT_TASK_POLICIES,
  TaskPolicies,
  TaskSchedule,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { forEachChunk } from '../database/chunks';
import { writeNextRuns } from '../database/nextRuns';
import { TASKS } from '../database/tables';

export interface SeedTask {
  schedule: TaskSchedule;
  nextRunAt: number | null;
  policies?: Partial<TaskPolicies>;
  instrumentRef?: string;
  state?: 'active' | 'paused' | 'completed';
}

/** Inserts many tasks at once (tests and benchmarks), the way the store would store them. */
export async function seedTasks(
  knex: Knex,
  tasks: SeedTask[],
): Promise<string[]> {
  const now = Date.now();
  const ids: string[] = [];
  const rows = tasks.map((t, i) => {
    const id = randomUUID();
    ids.push(id);
    const policies = { ...DEFAULT_TASK_POLICIES, ...t.policies };
    return {
      id,
      name: `Seeded task ${i}`,
      description: '',
      instrument_ref:
        t.instrumentRef ?? `resource:default/instrument-${i % 50}`,
      owner: 'group:default/lab-ops',
      measurement_type: 'mass-reading',
      measurement_parameters: JSON.stringify({
        replicates: 3,
        unit: 'g',
        qc: {},
      }),
      schedule_type: t.schedule.type,
      schedule: JSON.stringify(t.schedule),
      state: t.state ?? 'active',
      sort_at: t.nextRunAt ?? 8_640_000_000_000_000,
      version: 1,
      created_at: now,
      created_by: 'user:default/seed',
      updated_at: now,
      updated_by: 'user:default/seed',
      misfire_policy: policies.misfire,
      misfire_window_seconds: policies.misfireWindowSeconds,
      overlap_policy: policies.overlap,
      instrument_concurrency: policies.instrumentConcurrency,
    };
  });
  // 21 bound parameters per task (SQLite's limit, see forEachChunk).
  await forEachChunk(rows, 500, chunk => knex(TASKS).insert(chunk));
  // A task has a next run only while it is active (nextRuns.ts).
  await writeNextRuns(
    knex,
    tasks.flatMap((t, i) =>
      (t.state ?? 'active') === 'active' && t.nextRunAt !== null
        ? [{ taskId: ids[i], nextRunAt: t.nextRunAt }]
        : [],
    ),
  );
  return ids;
}

export const noGuards: Partial<TaskPolicies> = {
  overlap: 'allow',
  instrumentConcurrency: null,
};

/** `count` one-time tasks all due at `dueAt`, without instrument or overlap guards (benchmarks, load tests). */
export function seedDueTasks(
  knex: Knex,
  count: number,
  dueAt: number,
): Promise<string[]> {
  return seedTasks(
    knex,
    Array.from({ length: count }, () => ({
      schedule: { type: 'once' as const, at: new Date(dueAt).toISOString() },
      nextRunAt: dueAt,
      policies: noGuards,
    })),
  );
}
