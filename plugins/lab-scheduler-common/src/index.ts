/**
 * Shared types, validation schemas, permissions, schedule maths and the retry backoff of the Lab
 * Scheduler plugins.
 *
 * @packageDocumentation
 */
export * from './types';
export * from './permissions';
export * from './measurements';
export * from './schedule';
export * from './schemas';
export * from './pagination';
export * from './messages';
export * from './metricNames';
export * from './runOutcome';
export * from './results';
export * from './calendar';
export * from './measurementParameters';
export * from './builtInParameters';
export * from './backoff';
export * from './durations';
