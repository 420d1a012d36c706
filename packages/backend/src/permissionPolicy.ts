// packages/backend/src/permissionPolicy.ts
import { createBackendModule } from '@backstage/backend-plugin-api';
import {
  AuthorizeResult,
  isPermission,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import {
  createLabSchedulerTaskConditionalDecision,
  labSchedulerTaskConditions,
} from '@lab-scheduler/plugin-lab-scheduler-backend';
import {
  taskDeletePermission,
  taskUpdatePermission,
} from '@lab-scheduler/plugin-lab-scheduler-common';

/**
 * Users read and create tasks, and change or delete only tasks owned by themselves or by one of their
 * groups; everything else is allowed, as in a default portal. Service principals (static tokens, the
 * measurement Lambda, other plugins) never reach a policy: Backstage allows them whatever their token's
 * `accessRestrictions` allow, so `!user` is only the fallback for callers without a user.
 */
export class LabSchedulerPolicy implements PermissionPolicy {
  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    if (!user) {
      return { result: AuthorizeResult.ALLOW };
    }
    if (
      isPermission(request.permission, taskUpdatePermission) ||
      isPermission(request.permission, taskDeletePermission)
    ) {
      return createLabSchedulerTaskConditionalDecision(
        request.permission,
        labSchedulerTaskConditions.isTaskOwner({
          claims: user.info.ownershipEntityRefs,
        }),
      );
    }
    return { result: AuthorizeResult.ALLOW };
  }
}

export const labSchedulerPermissionPolicyModule = createBackendModule({
  pluginId: 'permission',
  moduleId: 'lab-scheduler-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint },
      async init({ policy }) {
        policy.setPolicy(new LabSchedulerPolicy());
      },
    });
  },
});
