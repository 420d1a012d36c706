import {
  createPermission,
  PermissionCondition,
  PermissionCriteria,
} from '@backstage/plugin-permission-common';

/** Resource type of a Lab Scheduler measurement task. @public */
export const LAB_SCHEDULER_TASK_RESOURCE_TYPE = 'lab-scheduler-task';

/** Create a measurement task. Not tied to a resource: the task does not exist yet. @public */
export const taskCreatePermission = createPermission({
  name: 'lab-scheduler.task.create',
  attributes: { action: 'create' },
});

/** Read a task, its runs and its audit trail. @public */
export const taskReadPermission = createPermission({
  name: 'lab-scheduler.task.read',
  attributes: { action: 'read' },
  resourceType: LAB_SCHEDULER_TASK_RESOURCE_TYPE,
});

/** Update, pause, resume or trigger a task. @public */
export const taskUpdatePermission = createPermission({
  name: 'lab-scheduler.task.update',
  attributes: { action: 'update' },
  resourceType: LAB_SCHEDULER_TASK_RESOURCE_TYPE,
});

/**
 * Report a run's events (started, succeeded, failed): the measurement executor's permission, apart from
 * task.update so that the executor's token cannot also change tasks. The report must still carry the
 * run's claim token. @public
 */
export const runReportPermission = createPermission({
  name: 'lab-scheduler.run.report',
  attributes: { action: 'update' },
  resourceType: LAB_SCHEDULER_TASK_RESOURCE_TYPE,
});

/** Delete a task. @public */
export const taskDeletePermission = createPermission({
  name: 'lab-scheduler.task.delete',
  attributes: { action: 'delete' },
  resourceType: LAB_SCHEDULER_TASK_RESOURCE_TYPE,
});

/** Every permission of the plugin, for registration and policy authors. @public */
export const labSchedulerPermissions = [
  taskCreatePermission,
  taskReadPermission,
  taskUpdatePermission,
  runReportPermission,
  taskDeletePermission,
];

/** Name of the conditional rule that matches tasks owned by one of the given entity refs. @public */
export const IS_TASK_OWNER_RULE = 'IS_TASK_OWNER';

/**
 * Condition "the task's owner is one of `claims`", for use in a permission policy's conditional decision.
 * Pass the user's ownership entity refs (the user and their groups) to say "owners and members of the
 * owning group".
 * @public
 * @deprecated Use `labSchedulerTaskConditions.isTaskOwner({ claims })` and
 * `createLabSchedulerTaskConditionalDecision` from `@lab-scheduler/plugin-lab-scheduler-backend`: typed
 * conditions for every rule, generated from the rules themselves.
 */
export function isTaskOwner(
  claims: string[],
): PermissionCondition<
  typeof LAB_SCHEDULER_TASK_RESOURCE_TYPE,
  { claims: string[] }
> {
  return {
    rule: IS_TASK_OWNER_RULE,
    resourceType: LAB_SCHEDULER_TASK_RESOURCE_TYPE,
    params: { claims },
  };
}

/** Conditions criteria over Lab Scheduler tasks. @public */
export type TaskPermissionCriteria = PermissionCriteria<
  PermissionCondition<typeof LAB_SCHEDULER_TASK_RESOURCE_TYPE>
>;
