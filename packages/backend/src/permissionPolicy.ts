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
  isTaskOwner,
  LAB_SCHEDULER_TASK_RESOURCE_TYPE,
  taskDeletePermission,
  taskUpdatePermission,
} from '@lab-scheduler/plugin-lab-scheduler-common';

/**
 * The demo portal's policy:
 * - service principals (static tokens for scripts, the measurement Lambda, other plugins) never reach
 *   this policy: Backstage's permission client allows them whatever their token's `accessRestrictions`
 *   allow. The two static tokens are told apart there (app-config.yaml): both are confined to the Lab
 *   Scheduler, and the executor (`lab-scheduler-executor`) may only read and update tasks, while scripts
 *   (`lab-scheduler-scripts`) manage them. `!user` below is the fallback for callers without a user;
 * - users may read and create tasks, and change or delete only tasks owned by themselves or by one of
 *   their groups;
 * - everything that is not a Lab Scheduler permission is allowed, as in a default portal.
 */
export class LabSchedulerDemoPolicy implements PermissionPolicy {
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
      return {
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'lab-scheduler',
        resourceType: LAB_SCHEDULER_TASK_RESOURCE_TYPE,
        conditions: isTaskOwner(user.info.ownershipEntityRefs),
      };
    }
    return { result: AuthorizeResult.ALLOW };
  }
}

export const labSchedulerPermissionPolicyModule = createBackendModule({
  pluginId: 'permission',
  moduleId: 'lab-scheduler-demo-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint },
      async init({ policy }) {
        policy.setPolicy(new LabSchedulerDemoPolicy());
      },
    });
  },
});
