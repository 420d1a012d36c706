export * from './LabSchedulerApi';
export * from './LabSchedulerClient';
