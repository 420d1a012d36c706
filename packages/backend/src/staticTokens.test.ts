import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import { permissionsServiceFactory } from '@backstage/backend-defaults/permissions';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import permissionPlugin from '@backstage/plugin-permission-backend';
import labSchedulerPlugin from '@lab-scheduler/plugin-lab-scheduler-backend';
import { labSchedulerPermissionPolicyModule } from './permissionPolicy';

jest.setTimeout(60_000);

const root = join(__dirname, '../../..');
/** The static tokens exactly as the demo portal configures them. */
const externalAccess = parse(
  readFileSync(join(root, 'app-config.yaml'), 'utf8'),
).backend.auth.externalAccess as any[];
const tokenOf = (subject: string) =>
  externalAccess.find(e => e.options.subject === subject).options.token;
const SCRIPTS = tokenOf('lab-scheduler-scripts');
const EXECUTOR = tokenOf('lab-scheduler-executor');
const UNRESTRICTED = 'an-unrestricted-token-for-contrast';

const task = {
  name: 'Token test',
  instrumentRef: 'resource:default/plate-reader-1',
  owner: 'group:default/lab-ops',
  measurement: { type: 'absorbance-spectrum', parameters: {} },
  schedule: { type: 'cron', expression: '0 9 * * *', timezone: 'UTC' },
};

/**
 * The real auth stack (static tokens, access restrictions, the permission client) with the real catalog
 * and Lab Scheduler plugins: what a script holding one of the demo tokens can reach.
 */
describe('static tokens of the demo portal', () => {
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let base: string;

  beforeAll(async () => {
    backend = await startTestBackend({
      features: [
        authServiceFactory,
        httpAuthServiceFactory,
        permissionsServiceFactory,
        mockServices.rootConfig.factory({
          data: {
            backend: {
              auth: {
                externalAccess: [
                  ...externalAccess,
                  {
                    type: 'static',
                    options: { token: UNRESTRICTED, subject: 'contrast' },
                  },
                ],
              },
            },
            permission: { enabled: true },
            catalog: { rules: [{ allow: ['Location', 'Resource'] }] },
            labScheduler: {
              dispatcher: { enabled: false },
              // The tasks' instrument has no driver: allow the simulation, as the demo portal does.
              execution: { simulated: { allowed: true } },
              instruments: { validateWithCatalog: false },
              owners: { validateWithCatalog: false },
            },
          },
        }),
        catalogPlugin,
        permissionPlugin,
        labSchedulerPermissionPolicyModule,
        labSchedulerPlugin,
      ],
    });
    base = `http://127.0.0.1:${
      (backend.server.address() as AddressInfo).port
    }/api`;
  });
  afterAll(async () => {
    await backend?.stop();
  });

  const call = (token: string, path: string, body?: object) =>
    fetch(`${base}${path}`, {
      method: body ? 'POST' : 'GET',
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });

  it.each([
    ['scripts', SCRIPTS],
    ['executor', EXECUTOR],
  ])(
    'keeps the %s token out of the catalog (read and write)',
    async (_who, token) => {
      const read = await call(token, '/catalog/entities');
      expect(read.status).toBe(403);
      expect((await read.json()).error.message).toBe(
        "This token's access is restricted to plugin(s) 'lab-scheduler'",
      );
      const write = await call(token, '/catalog/locations', {
        type: 'url',
        target: 'https://example.com/catalog-info.yaml',
      });
      expect(write.status).toBe(403);
    },
  );

  it('lets an unrestricted token read the catalog (what the restriction prevents)', async () => {
    const read = await call(UNRESTRICTED, '/catalog/entities');
    expect(read.status).toBe(200);
  });

  it('lets scripts manage tasks', async () => {
    const created = await call(SCRIPTS, '/lab-scheduler/tasks', task);
    expect(created.status).toBe(201);
    expect((await created.json()).createdBy).toBe(
      'service:lab-scheduler-scripts',
    );
  });

  it('lets the executor read tasks but not create or change them', async () => {
    const list = await call(EXECUTOR, '/lab-scheduler/tasks');
    expect(list.status).toBe(200);
    const created = await call(EXECUTOR, '/lab-scheduler/tasks', task);
    expect(created.status).toBe(403);
    expect((await created.json()).error.message).toContain(
      'lab-scheduler.task.create',
    );
    const mine = await (
      await call(SCRIPTS, '/lab-scheduler/tasks', task)
    ).json();
    const paused = await call(
      EXECUTOR,
      `/lab-scheduler/tasks/${mine.id}/pause`,
      {},
    );
    expect(paused.status).toBe(403);
    expect((await paused.json()).error.message).toContain(
      'lab-scheduler.task.update',
    );
    // What it is for: reporting run events (lab-scheduler.run.report). Without the run's claim token
    // the report changes nothing, but it is authorized and audited (200, proceed false).
    const run = await (
      await call(SCRIPTS, `/lab-scheduler/tasks/${mine.id}/trigger`, {})
    ).json();
    const report = await call(
      EXECUTOR,
      `/lab-scheduler/runs/${run.id}/events`,
      {
        type: 'started',
        attempt: 1,
      },
    );
    expect(report.status).toBe(200);
    expect((await report.json()).proceed).toBe(false);
  });
});
