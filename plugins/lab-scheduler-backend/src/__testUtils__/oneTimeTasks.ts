import type { Server } from 'node:http';
import request from 'supertest';
import { validTask } from './fixtures';
import { asUser } from './testBackend';

const API = '/api/lab-scheduler';
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** A run as `GET /tasks/:id/runs` answers it; the tests read the fields they check. */
export type ApiRun = Record<string, any> & { id: string; status: string };

/**
 * A one-time schedule due `inMs` from now: soon enough to watch the run, late enough to create it first
 * (the API refuses an instant in the past, and a request on a loaded machine may take a second).
 */
export const dueIn = (inMs = 2500) => ({
  type: 'once' as const,
  at: new Date(Date.now() + inMs).toISOString(),
});

/**
 * Creates a task through the API as the signed-in user: `validTask` (the plate reader) with `fields` over
 * it, a one-time task due in 2.5 s unless `fields` gives a schedule. It must be accepted (201); returns
 * the created task.
 */
export async function createOneTimeTask(
  server: Server,
  fields: object = {},
): Promise<Record<string, any> & { id: string }> {
  const created = await request(server)
    .post(`${API}/tasks`)
    .set('Authorization', asUser())
    .send({ ...validTask, schedule: dueIn(), ...fields });
  expect(created.status).toBe(201);
  return created.body;
}

/** The task's runs, newest first, as the signed-in user sees them. */
export async function runsOfTask(
  server: Server,
  taskId: string,
): Promise<ApiRun[]> {
  return (
    await request(server)
      .get(`${API}/tasks/${taskId}/runs`)
      .set('Authorization', asUser())
  ).body.items;
}

/**
 * Polls the task's runs until `done` accepts them, every `intervalMs` for at most `polls` polls, and
 * returns the last answer: the test asserts on it, so a run that never gets there fails with what it
 * shows rather than a timeout.
 */
export async function pollRuns(
  server: Server,
  taskId: string,
  done: (runs: ApiRun[]) => boolean,
  options: { polls?: number; intervalMs?: number } = {},
): Promise<ApiRun[]> {
  const { polls = 100, intervalMs = 100 } = options;
  let runs: ApiRun[] = [];
  for (let i = 0; i < polls; i++) {
    runs = await runsOfTask(server, taskId);
    if (done(runs)) break;
    await sleep(intervalMs);
  }
  return runs;
}

/** `done` for pollRuns: the task has a run, and the newest has one of `statuses`. */
export const newestRunIs =
  (...statuses: string[]) =>
  (runs: ApiRun[]) =>
    runs.length > 0 && statuses.includes(runs[0].status);
