/**
 * The Lab Scheduler frontend plugin.
 *
 * @packageDocumentation
 */
export {
  labSchedulerPlugin,
  LabSchedulerPage,
  EntityLabSchedulerCard,
  EntityInstrumentCalendarContent,
} from './plugin';
export * from './api';
