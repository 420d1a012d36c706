import { createConditionExports } from '@backstage/plugin-permission-node';
import {
  isOnInstrumentRule,
  isTaskOwnerRule,
  taskPermissionResourceRef,
} from './rules';

const { conditions, createConditionalDecision } = createConditionExports({
  resourceRef: taskPermissionResourceRef,
  rules: { isTaskOwner: isTaskOwnerRule, isOnInstrument: isOnInstrumentRule },
});

/**
 * Typed conditions over Lab Scheduler tasks for permission policies, one per built-in rule:
 * `isTaskOwner({ claims })` (the task's owner is one of the refs, e.g. the user's ownership refs) and
 * `isOnInstrument({ instrumentRefs })`. Combine them with `anyOf`, `allOf` and `not`.
 *
 * @public
 */
export const labSchedulerTaskConditions = conditions;

/**
 * Wraps task conditions into the conditional decision a permission policy returns for a task
 * permission (`lab-scheduler.task.read`, `.update`, `.delete`, `lab-scheduler.run.report`). The plugin
 * applies it in its database queries (lists) or to the loaded task.
 *
 * ```ts
 * if (isResourcePermission(request.permission, LAB_SCHEDULER_TASK_RESOURCE_TYPE)) {
 *   return createLabSchedulerTaskConditionalDecision(
 *     request.permission,
 *     labSchedulerTaskConditions.isTaskOwner({ claims: user.info.ownershipEntityRefs }),
 *   );
 * }
 * ```
 *
 * @public
 */
export const createLabSchedulerTaskConditionalDecision =
  createConditionalDecision;
