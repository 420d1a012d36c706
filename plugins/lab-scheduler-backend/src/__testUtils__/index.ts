/**
 * Test helpers shared with the Lambda's end-to-end tests: real databases (SQLite and PostgreSQL), a
 * real SQS/S3 server (fauxqs) in a child process, and a test backend with the plugin.
 */
export {
  createTestDatabases,
  databaseIds,
  isCI,
  postgresAvailable,
} from './databases';
export { instrumentEntities, orgEntities, validTask } from './fixtures';
export {
  startFauxqsProcess,
  createQueue,
  drainQueue,
  approximateCount,
} from './sqs';
export type { FauxqsProcess } from './sqs';
export { startLabSchedulerBackend, asUser, asService } from './testBackend';
