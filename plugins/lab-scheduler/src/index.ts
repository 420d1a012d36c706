/**
 * The Lab Scheduler frontend plugin.
 *
 * @packageDocumentation
 */
export {
  labSchedulerPlugin,
  LabSchedulerPage,
  EntityLabSchedulerCard,
} from './plugin';
export * from './api';
