export {
  TaskTable,
  RunStatusChip,
  formatNextRun,
  formatInstant,
  entityLink,
} from './TaskTable';
export { TaskCards } from './TaskCards';
