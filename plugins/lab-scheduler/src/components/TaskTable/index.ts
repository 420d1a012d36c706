export { TaskTable, RunStatusChip, formatNextRun } from './TaskTable';
