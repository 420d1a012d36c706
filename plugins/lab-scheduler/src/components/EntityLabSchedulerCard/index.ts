export { EntityLabSchedulerCard } from './EntityLabSchedulerCard';
