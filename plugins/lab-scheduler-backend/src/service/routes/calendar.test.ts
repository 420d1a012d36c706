/*
 * The instrument calendar, clash warnings and waiting reasons through the real test backend, on SQLite and
 * PostgreSQL: occurrences from the dispatcher's schedule maths (DST included), permission filtering
 * (another user's tasks only as anonymous busy time), bounds and field-naming 400s.
 */
import { TestDatabaseId } from '@backstage/backend-test-utils';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { measurementTypes } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';
import {
  createTestDatabases,
  databaseIds,
} from '../../__testUtils__/databases';
import { validTask } from '../../__testUtils__/fixtures';
import {
  asUser,
  startLabSchedulerBackend,
} from '../../__testUtils__/testBackend';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const API = '/api/lab-scheduler';
const DAY = 86_400_000;
const PLATE_READER = 'resource:default/plate-reader-1';

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(
  parse(readFileSync(resolve(__dirname, '../../schema/openapi.yaml'), 'utf8')),
  'openapi',
);
/** Errors of `value` against a schema of the OpenAPI document (none: it is as documented). */
const documented = (name: string, value: unknown) => {
  const validate = ajv.getSchema(`openapi#/components/schemas/${name}`)!;
  return validate(value) ? [] : validate.errors;
};

/** The next spring-forward Sunday in Europe/Berlin (last Sunday of March) at least two days ahead. */
function nextSpringForward(): Date {
  for (let year = new Date().getUTCFullYear(); ; year++) {
    const lastOfMarch = new Date(Date.UTC(year, 2, 31));
    const sunday = new Date(Date.UTC(year, 2, 31 - lastOfMarch.getUTCDay()));
    if (sunday.getTime() > Date.now() + 2 * DAY) return sunday;
  }
}

describe.each(databaseIds)(
  'calendar routes on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let backend: Awaited<ReturnType<typeof startLabSchedulerBackend>>;
    let server: any;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      backend = await startLabSchedulerBackend(knex);
      server = backend.server;
    });

    afterAll(async () => {
      await backend.stop();
    });

    beforeEach(async () => {
      await knex('lab_scheduler_runs').delete();
      await knex('lab_scheduler_tasks').delete();
    });

    async function createTask(
      body: Record<string, unknown>,
      user = 'user:default/ada',
    ) {
      const res = await request(server)
        .post(`${API}/tasks`)
        .set('Authorization', asUser(user))
        .send({ ...validTask, ...body });
      expect(res.status).toBe(201);
      return res.body;
    }

    const calendar = (query: Record<string, string>, user?: string) =>
      request(server)
        .get(`${API}/calendar`)
        .query(query)
        .set('Authorization', asUser(user));

    const clashes = (body: object, user?: string) =>
      request(server)
        .post(`${API}/calendar/clashes`)
        .set('Authorization', asUser(user))
        .send(body);

    it('draws each run at its wall-clock time across the spring-forward night, with the expected duration', async () => {
      const task = await createTask({
        schedule: {
          type: 'cron',
          expression: '30 8 * * *',
          timezone: 'Europe/Berlin',
        },
      });
      const sunday = nextSpringForward();
      const res = await calendar({
        from: new Date(sunday.getTime() - DAY).toISOString(),
        to: new Date(sunday.getTime() + DAY).toISOString(),
      });
      expect(res.status).toBe(200);
      const durationMs =
        measurementTypes['absorbance-spectrum'].expectedDurationSeconds * 1000;
      const day = (offset: number) =>
        new Date(sunday.getTime() + offset * DAY).toISOString().slice(0, 10);
      expect(res.body.items).toEqual([
        {
          taskId: task.id,
          taskName: task.name,
          instrumentRef: PLATE_READER,
          measurementType: 'absorbance-spectrum',
          start: `${day(-1)}T07:30:00.000Z`, // 08:30 CET
          end: new Date(
            Date.parse(`${day(-1)}T07:30:00.000Z`) + durationMs,
          ).toISOString(),
          taskState: 'active',
        },
        expect.objectContaining({ start: `${day(0)}T06:30:00.000Z` }), // 08:30 CEST
      ]);
      expect(res.body.truncated).toBe(false);
      expect(documented('CalendarResponse', res.body)).toEqual([]);
    });

    it('shows paused tasks as paused, filters by instrument, and leaves out tasks the caller may not read', async () => {
      const daily = {
        type: 'cron',
        expression: '0 10 * * *',
        timezone: 'UTC',
      };
      const paused = await createTask({ name: 'Paused one', schedule: daily });
      await request(server)
        .post(`${API}/tasks/${paused.id}/pause`)
        .set('Authorization', asUser());
      await createTask({
        name: 'pH drift',
        instrumentRef: 'resource:default/ph-meter-1',
        measurement: { type: 'ph-timeseries', parameters: {} },
        schedule: daily,
      });
      const window = {
        from: new Date(Date.now() + DAY).toISOString(),
        to: new Date(Date.now() + 3 * DAY).toISOString(),
      };

      const all = await calendar(window);
      expect(all.status).toBe(200);
      expect(new Set(all.body.items.map((i: any) => i.taskName))).toEqual(
        new Set(['Paused one', 'pH drift']),
      );
      expect(
        all.body.items
          .filter((i: any) => i.taskName === 'Paused one')
          .map((i: any) => i.taskState),
      ).toEqual(['paused', 'paused']);

      const one = await calendar({ ...window, instrument: PLATE_READER });
      expect(one.body.items.map((i: any) => i.taskName)).toEqual([
        'Paused one',
        'Paused one',
      ]);

      const outsider = await calendar(window, 'user:default/outsider');
      expect(outsider.status).toBe(200);
      expect(outsider.body.items).toEqual([]);
    });

    it('bounds the number of entries and says so', async () => {
      await createTask({
        schedule: { type: 'cron', expression: '* * * * *', timezone: 'UTC' },
      });
      const res = await calendar({
        from: new Date(Date.now() + DAY).toISOString(),
        to: new Date(Date.now() + 8 * DAY).toISOString(),
      });
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(2000);
      expect(res.body.truncated).toBe(true);
    });

    it.each([
      [{ from: 'tomorrow' }, 'from'],
      [{ to: '2026-01-01T00:00:00Z', from: '2026-01-02T00:00:00Z' }, 'to'],
      [{ from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' }, 'to'],
      [{ instrument: 'plate-reader-1' }, 'instrument'],
      [{ colour: 'red' }, 'colour'],
    ])('answers 400 naming the field for %j', async (query, field) => {
      const res = await calendar(query as Record<string, string>);
      expect(res.status).toBe(400);
      expect(res.body.error.details.map((d: any) => d.path)).toContain(field);
    });

    it('answers 401 without credentials', async () => {
      expect((await request(server).get(`${API}/calendar`)).status).toBe(401);
      expect(
        (await request(server).post(`${API}/calendar/clashes`).send({})).status,
      ).toBe(401);
      expect(
        (
          await request(server).get(
            `${API}/waiting-reasons?ids=${randomUUID()}`,
          )
        ).status,
      ).toBe(401);
    });

    describe('clashes', () => {
      const draft = (expression: string, extra: object = {}) => ({
        instrumentRef: PLATE_READER,
        measurementType: 'plate-od',
        schedule: { type: 'cron', expression, timezone: 'UTC' },
        count: 3,
        ...extra,
      });

      it('says which draft runs overlap another task on a full instrument, by how much; anonymously for a task the caller may not read', async () => {
        const booked = await createTask(
          {
            name: 'Rosalind’s blank',
            schedule: {
              type: 'cron',
              expression: '0 10 * * *',
              timezone: 'UTC',
            },
          },
          'user:default/rosalind',
        );
        expect(documented('ClashRequest', draft('1 10 * * *'))).toEqual([]);
        const asAda = await clashes(draft('1 10 * * *'));
        expect(asAda.status).toBe(200);
        expect(documented('ClashReport', asAda.body)).toEqual([]);
        expect(asAda.body.capacity).toBe(1);
        expect(asAda.body.durationMs).toBe(
          measurementTypes['plate-od'].expectedDurationSeconds * 1000,
        );
        expect(asAda.body.occurrences).toHaveLength(3);
        for (const occurrence of asAda.body.occurrences) {
          // Booked 10:00-10:03 (absorbance spectrum, 180 s); draft 10:01-10:06.
          expect(occurrence.start).toMatch(/T10:01:00\.000Z$/);
          expect(occurrence.overCapacityMs).toBe(120_000);
          expect(occurrence.overlaps).toEqual([
            {
              start: occurrence.start.replace('10:01', '10:00'),
              end: occurrence.start.replace('10:01', '10:03'),
              overlapMs: 120_000,
              task: { id: booked.id, name: 'Rosalind’s blank' },
            },
          ]);
        }

        const asOutsider = await clashes(
          draft('1 10 * * *'),
          'user:default/outsider',
        );
        expect(asOutsider.status).toBe(200);
        expect(asOutsider.body.occurrences[0].overCapacityMs).toBe(120_000);
        expect(asOutsider.body.occurrences[0].overlaps[0].task).toBeNull();
        expect(documented('ClashReport', asOutsider.body)).toEqual([]);
        expect(JSON.stringify(asOutsider.body)).not.toContain('Rosalind');

        // Later in the day: free.
        const free = await clashes(draft('0 12 * * *'));
        expect(
          free.body.occurrences.map((o: any) => [o.overCapacityMs, o.overlaps]),
        ).toEqual([
          [0, []],
          [0, []],
          [0, []],
        ]);

        // Editing the booked task itself: its own runs do not count against it.
        const self = await clashes(
          draft('0 10 * * *', {
            measurementType: 'absorbance-spectrum',
            taskId: booked.id,
          }),
        );
        expect(self.body.occurrences[0].overlaps).toEqual([]);
      });

      it('does not count paused tasks, and an instrument with room takes overlapping runs', async () => {
        const paused = await createTask({
          schedule: { type: 'cron', expression: '0 10 * * *', timezone: 'UTC' },
        });
        await request(server)
          .post(`${API}/tasks/${paused.id}/pause`)
          .set('Authorization', asUser());
        const res = await clashes(draft('1 10 * * *'));
        expect(res.body.occurrences[0].overlaps).toEqual([]);

        // balance-1 takes 3 runs at once: one other run overlaps, yet no time over capacity.
        const weighing = {
          instrumentRef: 'resource:default/balance-1',
          measurement: { type: 'mass-reading', parameters: {} },
        };
        await createTask({
          ...weighing,
          schedule: { type: 'cron', expression: '0 10 * * *', timezone: 'UTC' },
        });
        const roomy = await clashes({
          ...draft('0 10 * * *'),
          instrumentRef: 'resource:default/balance-1',
          measurementType: 'mass-reading',
        });
        expect(roomy.body.capacity).toBe(3);
        expect(roomy.body.occurrences[0].overlaps).toHaveLength(1);
        expect(roomy.body.occurrences[0].overCapacityMs).toBe(0);
      });

      it.each([
        [{ instrumentRef: 'plate-reader-1' }, 'instrumentRef'],
        [{ count: 0 }, 'count'],
        [{ count: 21 }, 'count'],
        [{ taskId: 'nope' }, 'taskId'],
        [{ measurementType: '' }, 'measurementType'],
        [
          {
            schedule: { type: 'cron', expression: '0 9 * *', timezone: 'UTC' },
          },
          'schedule.expression',
        ],
        [{ extra: true }, 'extra'],
      ])('answers 400 naming the field for %j', async (change, field) => {
        const res = await clashes({ ...draft('0 9 * * *'), ...change });
        expect(res.status).toBe(400);
        expect(res.body.error.details.map((d: any) => d.path)).toContain(field);
      });
    });

    describe('waiting reasons', () => {
      async function insertRun(
        taskId: string,
        fields: Record<string, unknown>,
      ): Promise<string> {
        const id = randomUUID();
        await knex('lab_scheduler_runs').insert({
          id,
          task_id: taskId,
          instrument_ref: PLATE_READER,
          status: 'pending',
          attempt: 0,
          created_at: Date.now(),
          ...fields,
        });
        return id;
      }

      const reasons = (ids: string[], user?: string) =>
        request(server)
          .get(`${API}/waiting-reasons`)
          .query({ ids: ids.join(',') })
          .set('Authorization', asUser(user));

      it('says a due run waits for its full instrument, with the runs ahead; queued runs wait for the executor', async () => {
        const task = await createTask({});
        const now = Date.now();
        const holding = await insertRun(task.id, {
          status: 'running',
          slot: 0,
          scheduled_for: now - 120_000,
          started_at: now - 100_000,
        });
        const first = await insertRun(task.id, { scheduled_for: now - 60_000 });
        const second = await insertRun(task.id, {
          scheduled_for: now - 30_000,
        });
        const queued = await insertRun(task.id, {
          status: 'queued',
          scheduled_for: now - 90_000,
        });

        const res = await reasons([second, first, queued, holding]);
        expect(res.status).toBe(200);
        const byRun = new Map(res.body.items.map((r: any) => [r.runId, r]));
        expect(byRun.size).toBe(3); // the running run is not waiting
        for (const reason of res.body.items)
          expect(documented('WaitingReason', reason)).toEqual([]);
        expect(byRun.get(second)).toEqual({
          runId: second,
          status: 'pending',
          code: 'instrument-busy',
          message:
            'Waiting for plate-reader-1 (1 run at a time, 1 in progress), 1 run ahead',
          instrumentRef: PLATE_READER,
          capacity: 1,
          busy: 1,
          ahead: 1,
        });
        expect(byRun.get(first)).toMatchObject({
          code: 'instrument-busy',
          ahead: 0,
        });
        expect(byRun.get(queued)).toMatchObject({ code: 'queued' });

        // The measurement ends: the first in line is being dispatched, the second is behind it.
        await knex('lab_scheduler_runs')
          .where({ id: holding })
          .update({ status: 'succeeded', slot: null });
        const after = await reasons([first, second]);
        const codes = Object.fromEntries(
          after.body.items.map((r: any) => [r.runId, [r.code, r.ahead]]),
        );
        expect(codes).toEqual({
          [first]: ['dispatching', 0],
          [second]: ['dispatching', 1],
        });
      });

      it('leaves out runs of tasks the caller may not read', async () => {
        const task = await createTask({});
        const run = await insertRun(task.id, {
          scheduled_for: Date.now() - 1000,
        });
        const res = await reasons([run], 'user:default/outsider');
        expect(res.status).toBe(200);
        expect(res.body.items).toEqual([]);
      });

      it.each([
        ['a non-UUID', 'not-a-uuid', 'ids'],
        [
          '101 ids',
          Array.from({ length: 101 }, () => randomUUID()).join(','),
          'ids',
        ],
      ])('answers 400 naming the field for %s', async (_label, ids, field) => {
        const res = await request(server)
          .get(`${API}/waiting-reasons`)
          .query({ ids })
          .set('Authorization', asUser());
        expect(res.status).toBe(400);
        expect(res.body.error.details.map((d: any) => d.path)).toContain(field);
      });
    });
  },
);
