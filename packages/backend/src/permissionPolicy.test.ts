import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { permissionsRegistryServiceFactory } from '@backstage/backend-defaults/permissionsRegistry';
import {
  mockServices,
  ServiceFactoryTester,
} from '@backstage/backend-test-utils';
import {
  createConditionAuthorizer,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import {
  taskPermissionResourceRef,
  taskPermissionRules,
} from '@lab-scheduler/plugin-lab-scheduler-backend';
import {
  labSchedulerPermissions,
  Task,
  taskCreatePermission,
  taskDeletePermission,
  taskReadPermission,
  taskUpdatePermission,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabSchedulerPolicy } from './permissionPolicy';

const ada = {
  identity: {
    type: 'user',
    userEntityRef: 'user:default/ada',
    ownershipEntityRefs: ['user:default/ada', 'group:default/lab-ops'],
  },
  info: {
    userEntityRef: 'user:default/ada',
    ownershipEntityRefs: ['user:default/ada', 'group:default/lab-ops'],
  },
  token: 'unused',
  credentials: {} as PolicyQueryUser['credentials'],
} as PolicyQueryUser;

const taskOwnedBy = (owner: string) => ({ id: 't', owner } as Task);

/** Applies a decision to a task with the rules the backend plugin registers, as the plugin does. */
async function taskAuthorizer() {
  const registry = await ServiceFactoryTester.from(
    permissionsRegistryServiceFactory,
    // The registry mounts its integration routes on the plugin router; no HTTP is needed here.
    { dependencies: [mockServices.httpRouter.mock().factory] },
  ).getSubject('lab-scheduler');
  registry.addResourceType({
    resourceRef: taskPermissionResourceRef,
    permissions: labSchedulerPermissions,
    rules: taskPermissionRules,
  });
  return createConditionAuthorizer(
    registry.getPermissionRuleset(taskPermissionResourceRef),
  );
}

describe('the demo portal permission policy', () => {
  const policy = new LabSchedulerPolicy();

  it.each([
    ['update', taskUpdatePermission],
    ['delete', taskDeletePermission],
  ])(
    "lets a user %s only their own or their groups' tasks",
    async (_action, permission) => {
      const decision: PolicyDecision = await policy.handle({ permission }, ada);
      expect(decision.result).toBe(AuthorizeResult.CONDITIONAL);
      const isAllowedBy = await taskAuthorizer();
      expect(isAllowedBy(decision, taskOwnedBy('group:default/lab-ops'))).toBe(
        true,
      );
      expect(isAllowedBy(decision, taskOwnedBy('user:default/ada'))).toBe(true);
      expect(
        isAllowedBy(decision, taskOwnedBy('group:default/assay-dev')),
      ).toBe(false);
    },
  );

  it('lets users read and create any task, and callers without a user do anything', async () => {
    for (const permission of [taskReadPermission, taskCreatePermission]) {
      expect(await policy.handle({ permission }, ada)).toEqual({
        result: AuthorizeResult.ALLOW,
      });
    }
    expect(await policy.handle({ permission: taskDeletePermission })).toEqual({
      result: AuthorizeResult.ALLOW,
    });
  });

  it("is the module the backend plugin's README shows", () => {
    const readme = readFileSync(
      join(__dirname, '../../../plugins/lab-scheduler-backend/README.md'),
      'utf8',
    );
    const section = readme.slice(
      readme.indexOf('### A permission policy module'),
    );
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBe(
      readFileSync(join(__dirname, 'permissionPolicy.ts'), 'utf8'),
    );
  });
});
