export { TaskStateChip, describeTaskState } from './TaskStateChip';
