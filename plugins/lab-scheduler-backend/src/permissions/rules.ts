import {
  createPermissionResourceRef,
  createPermissionRule,
  PermissionRuleset,
} from '@backstage/plugin-permission-node';
import {
  IS_TASK_OWNER_RULE,
  LAB_SCHEDULER_TASK_RESOURCE_TYPE,
  Task,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { z } from 'zod';
import { TaskFilter } from '../database/TaskStore';

/**
 * Permission resource ref of Lab Scheduler tasks. A backend module may add rules of its own for tasks
 * (`coreServices.permissionsRegistry.addPermissionRules`, rules made with `createPermissionRule` and this
 * ref, whose `toQuery` returns a filter on `owner` or `instrument_ref`): the plugin applies the rules of
 * the registry, so policies may name them beside the built-in ones.
 * @public
 */
export const taskPermissionResourceRef = createPermissionResourceRef<
  Task,
  TaskFilter
>().with({
  pluginId: 'lab-scheduler',
  resourceType: LAB_SCHEDULER_TASK_RESOURCE_TYPE,
});

/** "The task's owner is one of the given refs" — e.g. the user and their groups. @public */
export const isTaskOwnerRule = createPermissionRule({
  name: IS_TASK_OWNER_RULE,
  description: 'Allow tasks whose owner is one of the given entity refs',
  resourceRef: taskPermissionResourceRef,
  paramsSchema: z.object({
    claims: z
      .array(z.string())
      .describe(
        'Entity refs of the owners to match, e.g. the user and their groups',
      ),
  }),
  apply: (task: Task, { claims }) =>
    claims.map(c => c.toLocaleLowerCase('en-US')).includes(task.owner),
  toQuery: ({ claims }) => ({
    property: 'owner' as const,
    values: claims.map(c => c.toLocaleLowerCase('en-US')),
  }),
});

/** "The task measures on one of the given instruments." @public */
export const isOnInstrumentRule = createPermissionRule({
  name: 'IS_ON_INSTRUMENT',
  description: 'Allow tasks on one of the given instruments',
  resourceRef: taskPermissionResourceRef,
  paramsSchema: z.object({
    instrumentRefs: z
      .array(z.string())
      .describe('Entity refs of the instruments'),
  }),
  apply: (task: Task, { instrumentRefs }) =>
    instrumentRefs
      .map(c => c.toLocaleLowerCase('en-US'))
      .includes(task.instrumentRef),
  toQuery: ({ instrumentRefs }) => ({
    property: 'instrument_ref' as const,
    values: instrumentRefs.map(c => c.toLocaleLowerCase('en-US')),
  }),
});

/** The built-in rules of tasks, registered with the resource type (plugin.ts). @public */
export const taskPermissionRules = [isTaskOwnerRule, isOnInstrumentRule];

/**
 * The rules of tasks as the permission registry holds them: the built-in ones and any a module added
 * (`permissionsRegistry.addPermissionRules`). The routes turn conditional decisions into SQL filters and
 * check loaded tasks with it.
 */
export type TaskPermissionRuleset = PermissionRuleset<
  Task,
  TaskFilter,
  typeof LAB_SCHEDULER_TASK_RESOURCE_TYPE
>;
