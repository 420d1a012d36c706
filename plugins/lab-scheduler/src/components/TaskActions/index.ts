export { TaskActions } from './TaskActions';
export { TaskNoticeSnackbar } from './TaskNotice';
export type { TaskNotice } from './TaskNotice';
