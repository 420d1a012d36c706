export {
  TaskTable,
  RunStatusChip,
  formatNextRun,
  entityLink,
} from './TaskTable';
