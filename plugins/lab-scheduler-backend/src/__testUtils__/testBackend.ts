import {
  coreServices,
  createServiceFactory,
  PermissionsService,
  ServiceFactory,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  AuthorizeResult,
  isPermission,
} from '@backstage/plugin-permission-common';
import {
  taskCreatePermission,
  taskDeletePermission,
  taskReadPermission,
  taskUpdatePermission,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Knex } from 'knex';
import {
  createLabSchedulerTaskConditionalDecision,
  labSchedulerTaskConditions,
} from '../permissions/conditionExports';
import { labSchedulerPlugin } from '../plugin';
import { recordContractViolations } from './apiContract';
import { instrumentEntities, orgEntities } from './fixtures';

/** Ownership refs of the test users: what the auth backend would put in their identity. */
export const ownership: Record<string, string[]> = {
  'user:default/ada': ['user:default/ada', 'group:default/lab-ops'],
  'user:default/rosalind': ['user:default/rosalind', 'group:default/assay-dev'],
  'user:default/viewer': ['user:default/viewer'],
  'user:default/outsider': ['user:default/outsider'],
};

/** The signed-in user's identity as the auth backend would issue it: their ownership refs above. */
const userInfoFromOwnership = createServiceFactory({
  service: coreServices.userInfo,
  deps: {},
  factory(): UserInfoService {
    return {
      async getUserInfo(credentials) {
        const user = (credentials.principal as { userEntityRef: string })
          .userEntityRef;
        return {
          userEntityRef: user,
          ownershipEntityRefs: ownership[user] ?? [user],
        };
      },
    };
  },
});

/**
 * A permissions service applying the demo portal's policy in-process: services may do everything;
 * users may read and create, and update/delete only tasks they (or their groups) own; the user
 * `viewer` may not create; the user `outsider` may read only their own tasks.
 */
const policyPermissions = createServiceFactory({
  service: coreServices.permissions,
  deps: {},
  factory(): PermissionsService {
    const decide = (permission: any, credentials: any) => {
      const principal = credentials.principal;
      if (principal.type !== 'user')
        return { result: AuthorizeResult.ALLOW } as const;
      const user = principal.userEntityRef as string;
      if (
        isPermission(permission, taskCreatePermission) &&
        user === 'user:default/viewer'
      ) {
        return { result: AuthorizeResult.DENY } as const;
      }
      if (
        isPermission(permission, taskUpdatePermission) ||
        isPermission(permission, taskDeletePermission) ||
        // `outsider` reads only their own tasks (everyone else reads all).
        (isPermission(permission, taskReadPermission) &&
          user === 'user:default/outsider')
      ) {
        return createLabSchedulerTaskConditionalDecision(
          permission,
          labSchedulerTaskConditions.isTaskOwner({
            claims: ownership[user] ?? [user],
          }),
        );
      }
      return { result: AuthorizeResult.ALLOW } as const;
    };
    return {
      async authorize(requests, { credentials }) {
        // Only used for basic permissions by the plugin; resource checks go through authorizeConditional.
        return requests.map(r => {
          const d = decide(r.permission, credentials);
          return {
            result:
              d.result === AuthorizeResult.ALLOW
                ? AuthorizeResult.ALLOW
                : AuthorizeResult.DENY,
          };
        }) as any;
      },
      async authorizeConditional(requests, { credentials }) {
        return requests.map(r => decide(r.permission, credentials)) as any;
      },
    };
  },
});

/**
 * Test defaults unless a test config says otherwise: the test instruments have no driver of their own and
 * are measured by the simulation (`labScheduler.execution.simulated.allowed`); stopping waits for
 * measurements still running, as on a loaded CI machine they may outlast the production budget
 * (`labScheduler.lifecycle.shutdownTimeout`; src/lifecycle/shutdown.test.ts tests that budget).
 */
function withTestDefaults(config: any): object {
  const labScheduler = config.labScheduler ?? {};
  const execution = labScheduler.execution ?? {};
  return {
    ...config,
    labScheduler: {
      ...labScheduler,
      lifecycle: { shutdownTimeout: '30s', ...labScheduler.lifecycle },
      execution: {
        ...execution,
        simulated: { allowed: true, ...execution.simulated },
      },
    },
  };
}

export async function startLabSchedulerBackend(
  knex: Knex,
  config: object = { labScheduler: { dispatcher: { enabled: false } } },
  /** Extra features or service factories, e.g. a capturing root logger. */
  extraFeatures: Parameters<typeof startTestBackend>[0]['features'] = [],
  /** Replaces the in-memory catalog with the test's own (e.g. a real CatalogClient against a stand-in). */
  overrides: { catalog?: ServiceFactory } = {},
) {
  const backend = await startTestBackend({
    features: [
      labSchedulerPlugin,
      mockServices.database.factory({ knex }),
      mockServices.rootConfig.factory({ data: withTestDefaults(config) }),
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
      overrides.catalog ??
        catalogServiceMock.factory({
          entities: [...instrumentEntities, ...orgEntities],
        }),
      policyPermissions,
      userInfoFromOwnership,
      ...(extraFeatures ?? []),
    ],
  });
  // Every response of every API test is checked against openapi.yaml; stopping fails on a mismatch.
  const contract = recordContractViolations(backend.server);
  const stop = backend.stop.bind(backend);
  return Object.assign(backend, {
    contractViolations: contract.violations,
    async stop() {
      await stop();
      contract.assertNone();
    },
  });
}

export const asUser = (ref = 'user:default/ada') =>
  mockCredentials.user.header(ref);
export const asService = () => mockCredentials.service.header();
