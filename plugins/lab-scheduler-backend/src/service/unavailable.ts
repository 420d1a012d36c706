import { isError, ServiceUnavailableError } from '@backstage/errors';
import { LoggerService } from '@backstage/backend-plugin-api';
import { ErrorRequestHandler } from 'express';

/**
 * SQLSTATEs that say the database cannot serve right now, not that the request is wrong: class 08
 * (connection exception), 57P01-57P03 (administrator or crash shutdown, "the database system is starting
 * up"), 53300 (too many connections).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;

/** Socket errors of a server that is down, restarting or unreachable (a database, the catalog). */
export const UNREACHABLE_SOCKET_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** The database's: its server unreachable, or SQLite's lock timeout. */
const UNAVAILABLE_CODES = new Set([...UNREACHABLE_SOCKET_CODES, 'SQLITE_BUSY']);

/**
 * What node-postgres and knex say when a pooled connection died under them or none could be had in
 * time; these errors carry no code.
 */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|is not queryable|Timeout acquiring a connection|not currently accepting connections/;

/** Whether an error means "the database is unavailable" (retry later) rather than a fault in the request. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending = [error];
  while (pending.length > 0) {
    const e = pending.pop();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const { code, message, name, cause, errors } = e as {
      code?: unknown;
      message?: unknown;
      name?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (typeof code === 'string') {
      if (UNAVAILABLE_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))
        return true;
    }
    if (name === 'KnexTimeoutError') return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message))
      return true;
    pending.push(cause);
    // A connection to a host with several addresses fails with an AggregateError.
    if (Array.isArray(errors)) pending.push(...errors);
  }
  return false;
}

/** Seconds a client should wait before retrying: about one PostgreSQL restart or Aurora failover step. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Answers requests that failed because a dependency is unavailable with 503 and Retry-After, through
 * Backstage's error middleware: the client can tell "try again" from a server fault, and the load balancer's
 * 5xx alarms see a dependency outage, not a bug. Two kinds: the database (restart, failover, connections
 * cut), recognised from the driver's error; and a `ServiceUnavailableError` a call to another service threw
 * (the catalog: `catalogWithOutagesAsUnavailable`, which logs the catalog's own error). The driver's message
 * (host, database name) goes to the log, not to the client.
 */
export function unavailableHandler(logger: LoggerService): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    // Checked first: a dependency's outage already says which one (`catalogWithOutagesAsUnavailable`).
    if (isError(error) && error.name === 'ServiceUnavailableError') {
      logger.warn(
        `${req.method} ${req.originalUrl} answered 503: ${error.message}`,
      );
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      next(error);
      return;
    }
    if (!isDatabaseUnavailable(error)) {
      next(error);
      return;
    }
    logger.warn(
      `${req.method} ${req.originalUrl} answered 503, the database is unavailable: ${error}`,
    );
    res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    next(
      new ServiceUnavailableError('The database is unavailable; retry shortly'),
    );
  };
}
