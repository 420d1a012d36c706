import {
  coreServices,
  createServiceFactory,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabaseId,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { taskReadPermission } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import {
  createTestDatabases,
  databaseIds,
} from '../../__testUtils__/databases';
import { instrumentEntities, orgEntities } from '../../__testUtils__/fixtures';
import { seedTasks } from '../../__testUtils__/seed';
import {
  createLabSchedulerTaskConditionalDecision,
  labSchedulerTaskConditions,
} from '../../permissions/conditionExports';
import { labSchedulerPlugin } from '../../plugin';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const API = '/api/lab-scheduler';
const BASE = Date.parse('2027-01-01T00:00:00Z');
const ADA = ['user:default/ada', 'group:default/lab-ops'];

/**
 * Users read only tasks they or their groups own (a conditional decision, as a portal policy may give);
 * `user:default/blocked` may read nothing; services read everything.
 */
const ownerReadsPermissions = createServiceFactory({
  service: coreServices.permissions,
  deps: {},
  factory(): PermissionsService {
    const decide = (credentials: any) => {
      const principal = credentials.principal;
      if (principal.type !== 'user') return { result: AuthorizeResult.ALLOW };
      if (principal.userEntityRef === 'user:default/blocked')
        return { result: AuthorizeResult.DENY };
      return createLabSchedulerTaskConditionalDecision(
        taskReadPermission,
        labSchedulerTaskConditions.isTaskOwner({
          claims:
            principal.userEntityRef === 'user:default/ada'
              ? ADA
              : [principal.userEntityRef],
        }),
      );
    };
    return {
      async authorize(requests, { credentials }) {
        return requests.map(() => ({
          result:
            decide(credentials).result === AuthorizeResult.ALLOW
              ? AuthorizeResult.ALLOW
              : AuthorizeResult.DENY,
        })) as any;
      },
      async authorizeConditional(requests, { credentials }) {
        return requests.map(() => decide(credentials)) as any;
      },
    };
  },
});

const asUser = (ref = 'user:default/ada') => mockCredentials.user.header(ref);

const qcResult = (qc: 'pass' | 'fail', mean: number, rawUri?: string) =>
  JSON.stringify({
    measurementType: 'mass-reading',
    driver: 'simulated',
    summary: { mean, unit: 'g' },
    qc: {
      status: qc,
      checks: [{ name: 'sd', value: 0.2, limit: 0.1, pass: qc === 'pass' }],
    },
    rawData: rawUri
      ? { uri: rawUri, bytes: 10, sha256: '0'.repeat(64) }
      : undefined,
    durationMs: 1500,
  });

function runRow(
  taskId: string,
  i: number,
  status: string,
  result: string | null,
) {
  return {
    id: randomUUID(),
    task_id: taskId,
    instrument_ref: 'resource:default/balance-1',
    scheduled_for: BASE + i * 60_000,
    status,
    attempt: 1,
    created_at: BASE + i * 60_000,
    started_at: BASE + i * 60_000 + 100,
    finished_at: BASE + i * 60_000 + 2000,
    result,
    error: status === 'failed' ? 'InstrumentFaultError: lid open' : null,
  };
}

describe.each(databaseIds)(
  'results and exports on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let backend: Awaited<ReturnType<typeof startTestBackend>>;
    let rawDir: string;
    let adaTask: string;
    let otherTask: string;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      rawDir = mkdtempSync(join(tmpdir(), 'lab-scheduler-export-'));
      backend = await startTestBackend({
        features: [
          labSchedulerPlugin,
          mockServices.database.factory({ knex }),
          mockServices.rootConfig.factory({
            data: {
              labScheduler: {
                dispatcher: { enabled: false },
                execution: { rawDataDirectory: rawDir },
              },
            },
          }),
          mockServices.httpAuth.factory({
            defaultCredentials: mockCredentials.none(),
          }),
          catalogServiceMock.factory({
            entities: [...instrumentEntities, ...orgEntities],
          }),
          ownerReadsPermissions,
        ],
      });
      [adaTask, otherTask] = await seedTasks(knex, [
        {
          schedule: { type: 'once', at: new Date(BASE).toISOString() },
          nextRunAt: null,
          state: 'completed',
        },
        {
          schedule: { type: 'once', at: new Date(BASE).toISOString() },
          nextRunAt: null,
          state: 'completed',
        },
      ]);
      await knex('lab_scheduler_tasks')
        .where('id', otherTask)
        .update({ owner: 'group:default/assay-dev' });
    });

    afterAll(async () => {
      await backend.stop();
      rmSync(rawDir, { recursive: true, force: true });
    });

    beforeEach(async () => {
      await knex('lab_scheduler_runs').delete();
    });

    describe('GET /results', () => {
      it('lists finished runs of readable tasks only, newest first, filtered by outcome', async () => {
        const rows = [
          runRow(adaTask, 1, 'succeeded', qcResult('pass', 1)),
          runRow(adaTask, 2, 'succeeded', qcResult('fail', 2)),
          runRow(adaTask, 3, 'failed', null),
          runRow(otherTask, 4, 'succeeded', qcResult('fail', 3)),
          { ...runRow(adaTask, 5, 'running', null), finished_at: null },
        ];
        await knex('lab_scheduler_runs').insert(rows);

        const all = await request(backend.server)
          .get(`${API}/results`)
          .set('Authorization', asUser());
        expect(all.status).toBe(200);
        expect(all.body.items.map((i: any) => i.run.id)).toEqual([
          rows[2].id,
          rows[1].id,
          rows[0].id,
        ]);
        expect(all.body.items[0].task).toMatchObject({
          id: adaTask,
          owner: 'group:default/lab-ops',
        });

        const failures = await request(backend.server)
          .get(`${API}/results?outcome=qc_fail,failed`)
          .set('Authorization', asUser());
        expect(failures.body.items.map((i: any) => i.run.outcome)).toEqual([
          { kind: 'failed', cause: 'instrument' },
          { kind: 'qc_fail', failedChecks: ['sd'] },
        ]);

        const service = await request(backend.server)
          .get(`${API}/results?outcome=qc_fail&limit=1`)
          .set('Authorization', mockCredentials.service.header());
        expect(service.body.items.map((i: any) => i.run.id)).toEqual([
          rows[3].id,
        ]);
        const next = await request(backend.server)
          .get(
            `${API}/results?outcome=qc_fail&limit=1&cursor=${service.body.nextCursor}`,
          )
          .set('Authorization', mockCredentials.service.header());
        expect(next.body).toEqual({
          items: [
            expect.objectContaining({
              run: expect.objectContaining({ id: rows[1].id }),
            }),
          ],
          nextCursor: null,
        });
      });

      it.each([
        ['outcome=passed', 'outcome'],
        ['outcome=running', 'outcome'],
        ['limit=0', 'limit'],
        ['cursor=%00', 'cursor'],
        ['cursor=WyJ4IiwxXQ', 'cursor'],
        ['colour=red', 'colour'],
      ])('refuses %s with a 400 naming the field', async (query, field) => {
        const res = await request(backend.server)
          .get(`${API}/results?${query}`)
          .set('Authorization', asUser());
        expect(res.status).toBe(400);
        expect(res.body.error.message).toContain(field);
      });

      it('needs credentials and the read permission', async () => {
        expect(
          (await request(backend.server).get(`${API}/results`)).status,
        ).toBe(401);
        expect(
          (
            await request(backend.server)
              .get(`${API}/results`)
              .set('Authorization', asUser('user:default/blocked'))
          ).status,
        ).toBe(403);
      });
    });

    describe('GET /tasks/:id/runs/export', () => {
      const HISTORY = 1200;

      beforeEach(async () => {
        const rows = Array.from({ length: HISTORY }, (_, i) =>
          runRow(
            adaTask,
            i,
            'succeeded',
            qcResult(i % 10 === 0 ? 'fail' : 'pass', i),
          ),
        );
        for (let i = 0; i < rows.length; i += 200)
          await knex('lab_scheduler_runs').insert(rows.slice(i, i + 200));
      });

      it('streams the whole history as CSV, one database page at a time', async () => {
        const pageQueries: unknown[][] = [];
        const onQuery = (q: { sql: string; bindings?: unknown[] }) => {
          // Pages of 500 (+1 to see whether more follow); the task's one-row last-run probe is not a page.
          const bindings = q.bindings ?? [];
          if (
            /from [`"]lab_scheduler_runs[`"]/.test(q.sql) &&
            /limit/i.test(q.sql) &&
            bindings[bindings.length - 1] === 501
          )
            pageQueries.push(bindings);
        };
        knex.on('query', onQuery);
        const res = await request(backend.server)
          .get(`${API}/tasks/${adaTask}/runs/export`)
          .set('Authorization', asUser());
        knex.removeListener('query', onQuery);
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^text\/csv/);
        expect(res.headers['content-disposition']).toBe(
          `attachment; filename="task-${adaTask}-runs.csv"`,
        );
        const lines = res.text.trimEnd().split('\r\n');
        expect(lines).toHaveLength(HISTORY + 1);
        expect(lines[0]).toBe(
          'runId,scheduledFor,status,outcome,failedChecks,attempt,startedAt,finishedAt,durationMs,measurementType,error,summary.mean,summary.unit',
        );
        // Newest first: the last seeded run (i = 1199, QC pass) and the one of i = 1190 (QC fail).
        expect(lines[1]).toMatch(
          new RegExp(
            `^[0-9a-f-]{36},${new Date(
              BASE + 1199 * 60_000,
            ).toISOString()},succeeded,qc_pass,,1,.*,1500,mass-reading,,1199,g$`,
          ),
        );
        expect(lines[10]).toMatch(/,succeeded,qc_fail,sd,1,.*,1190,g$/);
        expect(new Set(lines.slice(1).map(l => l.split(',')[0])).size).toBe(
          HISTORY,
        );
        // 1200 runs at 500 a page: three keyset queries, never one for everything.
        expect(pageQueries).toHaveLength(3);
      });

      it('streams JSON as an array of runs with their outcome', async () => {
        const res = await request(backend.server)
          .get(`${API}/tasks/${adaTask}/runs/export?format=json`)
          .set('Authorization', asUser());
        expect(res.status).toBe(200);
        const runs = JSON.parse(res.text);
        expect(runs).toHaveLength(HISTORY);
        expect(runs[9].outcome).toEqual({
          kind: 'qc_fail',
          failedChecks: ['sd'],
        });
      });

      it('refuses a task the caller may not read, an unknown format and a bad id', async () => {
        const theirs = await request(backend.server)
          .get(`${API}/tasks/${otherTask}/runs/export`)
          .set('Authorization', asUser());
        expect(theirs.status).toBe(403);
        const format = await request(backend.server)
          .get(`${API}/tasks/${adaTask}/runs/export?format=xlsx`)
          .set('Authorization', asUser());
        expect(format.status).toBe(400);
        expect(format.body.error.message).toContain('format');
        const id = await request(backend.server)
          .get(`${API}/tasks/not-a-uuid/runs/export`)
          .set('Authorization', asUser());
        expect(id.status).toBe(400);
        expect(id.body.error.message).toContain('id');
        const unknown = await request(backend.server)
          .get(`${API}/tasks/${randomUUID()}/runs/export`)
          .set('Authorization', asUser());
        expect(unknown.status).toBe(404);
      });
    });

    describe('GET /runs/:id/export', () => {
      it('answers the raw data as CSV rows in the instrument units, or the stored JSON', async () => {
        const file = join(rawDir, 'plate.json');
        const raw = {
          type: 'plate-od',
          instrumentRef: 'resource:default/plate-reader-1',
          acquiredAt: new Date(BASE).toISOString(),
          units: { od: 'OD' },
          data: {
            rows: 8,
            cols: 12,
            rowLabels: 'ABCDEFGH'.split(''),
            od: Array.from({ length: 8 }, (_, r) =>
              Array.from({ length: 12 }, (__, c) => r + c / 100),
            ),
          },
        };
        writeFileSync(file, JSON.stringify(raw));
        const row = runRow(
          adaTask,
          1,
          'succeeded',
          qcResult('pass', 1, `file://${file}`),
        );
        await knex('lab_scheduler_runs').insert(row);
        const csv = await request(backend.server)
          .get(`${API}/runs/${row.id}/export?format=csv`)
          .set('Authorization', asUser());
        expect(csv.status).toBe(200);
        const lines = csv.text.trimEnd().split('\r\n');
        expect(lines).toHaveLength(97);
        expect(lines[0]).toBe('well,row,column,od_OD');
        expect(lines[1]).toBe('A1,A,1,0');
        expect(lines[96]).toBe('H12,H,12,7.11');
        const json = await request(backend.server)
          .get(`${API}/runs/${row.id}/export?format=json`)
          .set('Authorization', asUser());
        expect(json.headers['content-disposition']).toBe(
          `attachment; filename="run-${row.id}.json"`,
        );
        expect(JSON.parse(json.text)).toEqual(raw);
      });

      it('answers 404 for raw data elsewhere and 403 to who may not read the task', async () => {
        const s3 = runRow(
          adaTask,
          2,
          'succeeded',
          qcResult('pass', 1, 's3://bucket/runs/x.json'),
        );
        const outside = runRow(
          adaTask,
          3,
          'succeeded',
          qcResult('pass', 1, 'file:///etc/passwd'),
        );
        const theirs = runRow(otherTask, 4, 'succeeded', qcResult('pass', 1));
        await knex('lab_scheduler_runs').insert([s3, outside, theirs]);
        for (const run of [s3, outside]) {
          const res = await request(backend.server)
            .get(`${API}/runs/${run.id}/export`)
            .set('Authorization', asUser());
          expect(res.status).toBe(404);
        }
        const denied = await request(backend.server)
          .get(`${API}/runs/${theirs.id}/export`)
          .set('Authorization', asUser());
        expect(denied.status).toBe(403);
      });
    });
  },
);
