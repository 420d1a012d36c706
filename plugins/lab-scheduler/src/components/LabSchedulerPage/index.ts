export { LabSchedulerPage } from './LabSchedulerPage';
