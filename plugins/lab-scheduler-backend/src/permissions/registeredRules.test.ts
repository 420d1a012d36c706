import {
  coreServices,
  createBackendModule,
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
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  createConditionFactory,
  createPermissionRule,
} from '@backstage/plugin-permission-node';
import { taskReadPermission } from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import request from 'supertest';
import { z } from 'zod';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { instrumentEntities, orgEntities } from '../__testUtils__/fixtures';
import { seedTasks } from '../__testUtils__/seed';
import { TASKS } from '../database/tables';
import { labSchedulerPlugin } from '../plugin';
import { createLabSchedulerTaskConditionalDecision } from './conditionExports';
import { taskPermissionResourceRef } from './rules';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const API = '/api/lab-scheduler';

/**
 * A rule the plugin does not ship: an adopter's module adds it to the plugin's permission registry, and
 * a policy uses it in a conditional decision. The plugin must apply it as it applies its own (in SQL for
 * lists, on the loaded task otherwise): it reads its rules from the registry, not from a fixed list.
 */
const isOwnedByGroupRule = createPermissionRule({
  name: 'IS_OWNED_BY_GROUP',
  description: 'Allow tasks owned by the given group (an adopter-defined rule)',
  resourceRef: taskPermissionResourceRef,
  paramsSchema: z.object({ group: z.string() }),
  apply: (task, { group }) => task.owner === group,
  toQuery: ({ group }) => ({ property: 'owner' as const, values: [group] }),
});

const adopterRulesModule = createBackendModule({
  pluginId: 'lab-scheduler',
  moduleId: 'adopter-permission-rules',
  register(reg) {
    reg.registerInit({
      deps: { permissionsRegistry: coreServices.permissionsRegistry },
      async init({ permissionsRegistry }) {
        permissionsRegistry.addPermissionRules([isOwnedByGroupRule]);
      },
    });
  },
});

/** Users read only tasks owned by assay-dev, through the adopter's rule; services read everything. */
const assayDevReadsPermissions = createServiceFactory({
  service: coreServices.permissions,
  deps: {},
  factory(): PermissionsService {
    const decide = (credentials: any): PolicyDecision =>
      credentials.principal.type === 'user'
        ? createLabSchedulerTaskConditionalDecision(
            taskReadPermission,
            createConditionFactory(isOwnedByGroupRule)({
              group: 'group:default/assay-dev',
            }),
          )
        : { result: AuthorizeResult.ALLOW };
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

describe.each(databaseIds)(
  'permission rules from the registry on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let backend: Awaited<ReturnType<typeof startTestBackend>>;
    let labOpsTask: string;
    let assayDevTask: string;
    const asUser = mockCredentials.user.header('user:default/rosalind');

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      backend = await startTestBackend({
        features: [
          labSchedulerPlugin,
          adopterRulesModule,
          mockServices.database.factory({ knex }),
          mockServices.rootConfig.factory({
            data: { labScheduler: { dispatcher: { enabled: false } } },
          }),
          mockServices.httpAuth.factory({
            defaultCredentials: mockCredentials.none(),
          }),
          catalogServiceMock.factory({
            entities: [...instrumentEntities, ...orgEntities],
          }),
          assayDevReadsPermissions,
        ],
      });
      const inOneHour = Date.now() + 3_600_000;
      [labOpsTask, assayDevTask] = await seedTasks(knex, [
        {
          schedule: { type: 'once', at: new Date(inOneHour).toISOString() },
          nextRunAt: inOneHour,
        },
        {
          schedule: { type: 'once', at: new Date(inOneHour).toISOString() },
          nextRunAt: inOneHour,
        },
      ]);
      await knex(TASKS)
        .where('id', assayDevTask)
        .update({ owner: 'group:default/assay-dev' });
    });

    afterAll(async () => {
      await backend.stop();
    });

    it('filters lists in the database with a rule a module added', async () => {
      const list = await request(backend.server)
        .get(`${API}/tasks`)
        .set('Authorization', asUser);
      expect(list.status).toBe(200);
      expect(list.body.items.map((t: any) => t.id)).toEqual([assayDevTask]);

      const calendar = await request(backend.server)
        .get(`${API}/calendar`)
        .set('Authorization', asUser);
      expect(calendar.status).toBe(200);
      expect([
        ...new Set(calendar.body.items.map((e: any) => e.taskId)),
      ]).toEqual([assayDevTask]);

      const results = await request(backend.server)
        .get(`${API}/results`)
        .set('Authorization', asUser);
      expect(results.status).toBe(200);
    });

    it('applies the rule to a single task', async () => {
      const allowed = await request(backend.server)
        .get(`${API}/tasks/${assayDevTask}`)
        .set('Authorization', asUser);
      expect(allowed.status).toBe(200);
      const refused = await request(backend.server)
        .get(`${API}/tasks/${labOpsTask}`)
        .set('Authorization', asUser);
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toContain('lab-scheduler.task.read');
    });
  },
);
