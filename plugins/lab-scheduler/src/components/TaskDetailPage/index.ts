export { TaskDetailPage } from './TaskDetailPage';
