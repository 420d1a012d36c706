import { LoggerService } from '@backstage/backend-plugin-api';

/**
 * How long the plugin's shutdown may take by default (`labScheduler.lifecycle.shutdownTimeout`). Backstage
 * runs every plugin's shutdown hooks at once, and one
 * of them may hold the database connection the plugin's own hook needs: `backstage-cli package start`
 * serializes an in-memory SQLite database through its only connection and keeps it, so a query of ours
 * would wait knex's acquire timeout (60 s) while the backend answers 503. A longer budget lets in-process
 * measurements still running finish instead of being taken over after the run timeout.
 */
export const SHUTDOWN_BUDGET_MS = 1500;

/**
 * Runs the shutdown steps, but returns after `budgetMs` at the latest. What is cut short is safe to
 * abandon: unreleased claims expire with their lease, a run still measuring is taken over after its
 * run timeout (or failed as lost), and the process is about to exit anyway.
 */
export async function stopWithin(
  budgetMs: number,
  logger: LoggerService,
  steps: () => Promise<void>,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    steps().then(
      () => 'done' as const,
      error => {
        logger.warn(`Lab Scheduler shutdown failed: ${error}`);
        return 'done' as const;
      },
    ),
    new Promise<'timeout'>(resolve => {
      timer = setTimeout(() => resolve('timeout'), budgetMs);
    }),
  ]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    logger.warn(
      `Lab Scheduler shutdown did not finish within ${budgetMs} ms (a database connection held ` +
        'elsewhere, or a measurement still running); leaving the rest to lease expiry and run timeouts',
    );
  }
}
