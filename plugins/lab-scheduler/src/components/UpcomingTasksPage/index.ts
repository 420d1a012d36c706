export { UpcomingTasksPage } from './UpcomingTasksPage';
