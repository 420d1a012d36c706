import {
  coreServices,
  createServiceFactory,
  LoggerService,
  RootLoggerService,
} from '@backstage/backend-plugin-api';
import { TestDatabaseId } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import request from 'supertest';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { validTask } from '../__testUtils__/fixtures';
import {
  asService,
  asUser,
  startLabSchedulerBackend,
} from '../__testUtils__/testBackend';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const API = '/api/lab-scheduler';

type LogEntry = {
  level: string;
  message: string;
  meta: Record<string, unknown>;
};

/** A root logger that keeps what the plugin logs, so tests can read refusals back. */
function capturingRootLogger(entries: LogEntry[]) {
  const make = (fields: Record<string, unknown>): RootLoggerService => {
    const log = (level: string) => (message: string, meta?: object) => {
      entries.push({ level, message, meta: { ...fields, ...meta } });
    };
    return {
      error: log('error'),
      warn: log('warn'),
      info: log('info'),
      debug: log('debug'),
      child: (meta: object): LoggerService => make({ ...fields, ...meta }),
    };
  };
  return createServiceFactory({
    service: coreServices.rootLogger,
    deps: {},
    factory: () => make({}),
  });
}

/** Everything a refused request must leave untouched. */
async function snapshot(knex: Knex) {
  const tasks = await knex('lab_scheduler_tasks')
    .select('id', 'owner', 'version')
    .orderBy('id');
  const [runs] = await knex('lab_scheduler_runs').count({ n: '*' });
  const [audit] = await knex('lab_scheduler_audit').count({ n: '*' });
  return { tasks, runs: Number(runs.n), audit: Number(audit.n) };
}

describe.each(databaseIds)(
  'ownership, audit and run-now rules on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let backend: Awaited<ReturnType<typeof startLabSchedulerBackend>>;
    let server: any;
    const logs: LogEntry[] = [];

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      backend = await startLabSchedulerBackend(
        knex,
        { labScheduler: { dispatcher: { enabled: false } } },
        [capturingRootLogger(logs)],
      );
      server = backend.server;
    });
    afterAll(async () => {
      await backend.stop();
    });

    async function create(body: object, auth = asUser()) {
      const res = await request(server)
        .post(`${API}/tasks`)
        .set('Authorization', auth)
        .send(body);
      expect(res.status).toBe(201);
      return res.body;
    }

    describe('task owners', () => {
      it('lets a user create tasks for themselves (the default) and for their groups', async () => {
        expect((await create(validTask)).owner).toBe('user:default/ada');
        expect(
          (await create({ ...validTask, owner: 'user:default/ada' })).owner,
        ).toBe('user:default/ada');
        expect(
          (await create({ ...validTask, owner: 'group:default/Lab-Ops' }))
            .owner,
        ).toBe('group:default/lab-ops');
      });

      const userCreates: [string, string, string, number, RegExp][] = [
        [
          'another user',
          'user:default/ada',
          'user:default/rosalind',
          403,
          /owner: you may not assign tasks to user:default\/rosalind/,
        ],
        [
          'a group they are not in',
          'user:default/ada',
          'group:default/assay-dev',
          403,
          /owner: you may not assign tasks to group:default\/assay-dev/,
        ],
        [
          'a service ref',
          'user:default/ada',
          'service:default/backup-bot',
          400,
          /owner.*'service:default\/backup-bot' is not an owner ref/,
        ],
        [
          'a component',
          'user:default/ada',
          'component:default/lims',
          400,
          /owner.*is not an owner ref/,
        ],
        [
          'themselves when they are not in the catalog',
          'user:default/ghost',
          'user:default/ghost',
          400,
          /owner.*'user:default\/ghost' does not exist in the catalog/,
        ],
      ];

      it.each(userCreates)(
        'refuses a user creating a task for %s',
        async (_what, user, owner, status, message) => {
          const before = await snapshot(knex);
          const res = await request(server)
            .post(`${API}/tasks`)
            .set('Authorization', asUser(user))
            .send({ ...validTask, owner });
          expect(res.status).toBe(status);
          expect(res.body.error.message).toMatch(message);
          // A 400 lists the field in its details; a 403 names it in the message only.
          expect(res.body.error.details?.map((d: any) => d.path)).toEqual(
            status === 400 ? ['owner'] : undefined,
          );
          expect(await snapshot(knex)).toEqual(before);
        },
      );

      it('lets a service name any existing user or group, and nothing else', async () => {
        const task = await create(
          { ...validTask, owner: 'user:default/rosalind' },
          asService(),
        );
        expect(task.owner).toBe('user:default/rosalind');
        for (const [owner, message] of [
          ['group:default/nobody', /'group:default\/nobody' does not exist/],
          ['service:default/backup-bot', /is not an owner ref/],
        ] as const) {
          const before = await snapshot(knex);
          const res = await request(server)
            .post(`${API}/tasks`)
            .set('Authorization', asService())
            .send({ ...validTask, owner });
          expect(res.status).toBe(400);
          expect(res.body.error.message).toMatch(message);
          expect(res.body.error.details[0].path).toBe('owner');
          expect(await snapshot(knex)).toEqual(before);
        }
      });

      it('applies the same rules when a task is reassigned', async () => {
        const task = await create(validTask);
        const patch = (body: object, auth = asUser()) =>
          request(server)
            .patch(`${API}/tasks/${task.id}`)
            .set('Authorization', auth)
            .send(body);

        const before = await snapshot(knex);
        const toOther = await patch({
          version: 1,
          owner: 'user:default/rosalind',
        });
        expect(toOther.status).toBe(403);
        expect(toOther.body.error.message).toMatch(
          /owner: you may not assign tasks to user:default\/rosalind/,
        );
        const toService = await patch({
          version: 1,
          owner: 'service:default/backup-bot',
        });
        expect(toService.status).toBe(400);
        expect(toService.body.error.details[0].path).toBe('owner');
        const serviceToGhost = await patch(
          { version: 1, owner: 'user:default/ghost' },
          asService(),
        );
        expect(serviceToGhost.status).toBe(400);
        expect(serviceToGhost.body.error.message).toMatch(
          /owner.*does not exist in the catalog/,
        );
        expect(await snapshot(knex)).toEqual(before);

        const toGroup = await patch({
          version: 1,
          owner: 'group:default/lab-ops',
        });
        expect(toGroup.status).toBe(200);
        expect(toGroup.body.owner).toBe('group:default/lab-ops');
        const byService = await patch(
          { version: 2, owner: 'user:default/marie' },
          asService(),
        );
        expect(byService.status).toBe(200);
        expect(byService.body.owner).toBe('user:default/marie');
      });
    });

    describe('audit trail of a deleted task', () => {
      it('stays readable by the owner and by services, not by other users', async () => {
        const task = await create(validTask);
        const del = await request(server)
          .delete(`${API}/tasks/${task.id}`)
          .set('Authorization', asUser());
        expect(del.status).toBe(204);

        for (const auth of [asUser(), asService()]) {
          const res = await request(server)
            .get(`${API}/tasks/${task.id}/audit`)
            .set('Authorization', auth);
          expect(res.status).toBe(200);
          expect(res.body.items.map((e: any) => e.action)).toEqual([
            'create',
            'delete',
          ]);
        }
        const other = await request(server)
          .get(`${API}/tasks/${task.id}/audit`)
          .set('Authorization', asUser('user:default/rosalind'));
        expect(other.status).toBe(403);
        expect(other.body.error.message).toContain(
          `Task ${task.id} is deleted: only its owner (user:default/ada) and services may read its audit trail`,
        );
        // The task itself is still gone.
        const read = await request(server)
          .get(`${API}/tasks/${task.id}`)
          .set('Authorization', asUser());
        expect(read.status).toBe(404);
      });

      it('is readable by members of the owning group', async () => {
        const task = await create({
          ...validTask,
          owner: 'group:default/lab-ops',
        });
        await request(server)
          .delete(`${API}/tasks/${task.id}`)
          .set('Authorization', asService());
        const res = await request(server)
          .get(`${API}/tasks/${task.id}/audit`)
          .set('Authorization', asUser('user:default/ada'));
        expect(res.status).toBe(200);
        expect(res.body.items.at(-1)).toMatchObject({
          action: 'delete',
          actor: expect.stringMatching(/^service:/),
        });
      });
    });

    describe('refused attempts', () => {
      it('are logged with the principal that was refused', async () => {
        const task = await create({
          ...validTask,
          owner: 'group:default/lab-ops',
        });
        logs.length = 0;
        const rosalind = asUser('user:default/rosalind');
        const del = await request(server)
          .delete(`${API}/tasks/${task.id}`)
          .set('Authorization', rosalind);
        expect(del.status).toBe(403);
        const plant = await request(server)
          .post(`${API}/tasks`)
          .set('Authorization', rosalind)
          .send({ ...validTask, owner: 'group:default/lab-ops' });
        expect(plant.status).toBe(403);
        const denials = logs.filter(l => l.message === 'Request denied');
        expect(denials).toEqual([
          expect.objectContaining({
            level: 'warn',
            meta: expect.objectContaining({
              principal: 'user',
              actor: 'user:default/rosalind',
              permission: 'lab-scheduler.task.delete',
              taskId: task.id,
            }),
          }),
          expect.objectContaining({
            level: 'warn',
            meta: expect.objectContaining({
              principal: 'user',
              actor: 'user:default/rosalind',
              owner: 'group:default/lab-ops',
            }),
          }),
        ]);
      });
    });

    describe('run now', () => {
      const trigger = (id: string, auth = asUser()) =>
        request(server)
          .post(`${API}/tasks/${id}/trigger`)
          .set('Authorization', auth);
      const manualRuns = (taskId: string) =>
        knex('lab_scheduler_runs')
          .where('task_id', taskId)
          .whereNotNull('triggered_by')
          .select('id', 'status', 'triggered_by');

      it('accepts one manual run per task until it has finished; a second answers 409', async () => {
        const task = await create(validTask);
        const first = await trigger(task.id);
        expect(first.status).toBe(202);
        expect(await manualRuns(task.id)).toEqual([
          {
            id: first.body.id,
            status: 'pending',
            triggered_by: 'user:default/ada',
          },
        ]);

        for (const status of ['pending', 'queued', 'running']) {
          await knex('lab_scheduler_runs')
            .where('id', first.body.id)
            .update({ status });
          const before = await snapshot(knex);
          const second = await trigger(task.id, asService());
          expect(second.status).toBe(409);
          expect(second.body.error.name).toBe('ConflictError');
          expect(second.body.error.message).toBe(
            `Task ${task.id} already has a manual run waiting or in progress (run ${first.body.id}, ${status}); trigger it again when that run has finished`,
          );
          expect(await snapshot(knex)).toEqual(before);
        }

        await knex('lab_scheduler_runs')
          .where('id', first.body.id)
          .update({ status: 'succeeded' });
        const again = await trigger(task.id);
        expect(again.status).toBe(202);
        expect((await manualRuns(task.id)).map(r => r.status).sort()).toEqual([
          'pending',
          'succeeded',
        ]);
      });

      it('lets exactly one of two concurrent triggers through', async () => {
        const task = await create(validTask);
        const answers = await Promise.all([
          trigger(task.id),
          trigger(task.id, asService()),
        ]);
        expect(answers.map(a => a.status).sort()).toEqual([202, 409]);
        expect(await manualRuns(task.id)).toHaveLength(1);
        const audit = await knex('lab_scheduler_audit').where({
          task_id: task.id,
          action: 'trigger',
        });
        expect(audit).toHaveLength(1);
      });

      it('lets one of many concurrent triggers through', async () => {
        const task = await create(validTask);
        const answers = await Promise.all(
          Array.from({ length: 10 }, () => trigger(task.id)),
        );
        expect(answers.filter(a => a.status === 202)).toHaveLength(1);
        expect(answers.filter(a => a.status === 409)).toHaveLength(9);
        expect(await manualRuns(task.id)).toHaveLength(1);
      });

      it('is a unique index: the database refuses a second active manual run', async () => {
        const task = await create(validTask);
        const run = (n: number, status: string) => ({
          id: `00000000-0000-4000-8000-0000000000${n}0`,
          task_id: task.id,
          instrument_ref: task.instrumentRef,
          scheduled_for: n,
          status,
          attempt: 0,
          created_at: n,
          triggered_by: 'user:default/ada',
        });
        await knex('lab_scheduler_runs').insert(run(1, 'succeeded'));
        await knex('lab_scheduler_runs').insert(run(2, 'running'));
        await expect(
          knex('lab_scheduler_runs').insert(run(3, 'queued')),
        ).rejects.toThrow(/unique/i);
        // Scheduled occurrences are not limited.
        await knex('lab_scheduler_runs').insert({
          ...run(4, 'pending'),
          triggered_by: null,
        });
      });

      it('is enforced by the database when a trigger commits between the check and the insert', async () => {
        const task = await create(validTask);
        // A transaction that has inserted a manual run but not committed yet: the API's own check cannot
        // see it, only the unique index can.
        const tx = await knex.transaction();
        await tx('lab_scheduler_runs').insert({
          id: '00000000-0000-4000-8000-00000000abcd',
          task_id: task.id,
          instrument_ref: task.instrumentRef,
          scheduled_for: 1,
          status: 'pending',
          attempt: 0,
          created_at: 1,
          triggered_by: 'service:other-replica',
        });
        const pending = trigger(task.id).then(res => res);
        // Let the request reach the database (on PostgreSQL it then waits on the index entry).
        await new Promise(r => setTimeout(r, 300));
        await tx.commit();
        const res = await pending;
        expect(res.status).toBe(409);
        expect(res.body.error.message).toContain(
          `Task ${task.id} already has a manual run waiting or in progress (run 00000000-0000-4000-8000-00000000abcd, pending)`,
        );
        expect(await manualRuns(task.id)).toHaveLength(1);
      });
    });
  },
);
