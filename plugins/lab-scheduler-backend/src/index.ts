/**
 * The Lab Scheduler backend plugin.
 *
 * @packageDocumentation
 */
export { labSchedulerPlugin as default } from './plugin';
export {
  isTaskOwnerRule,
  isOnInstrumentRule,
  taskPermissionResourceRef,
  taskPermissionRules,
} from './permissions/rules';
export {
  createLabSchedulerTaskConditionalDecision,
  labSchedulerTaskConditions,
} from './permissions/conditionExports';
