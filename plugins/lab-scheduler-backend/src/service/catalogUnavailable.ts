import { LoggerService } from '@backstage/backend-plugin-api';
import {
  ResponseError,
  ServiceUnavailableError,
  stringifyError,
} from '@backstage/errors';
import { CatalogLookup } from './InstrumentCatalog';
import { UNREACHABLE_SOCKET_CODES } from './unavailable';

/** What `fetch` (undici) gives as its cause when the catalog's socket fails or it sends no answer in time. */
const FETCH_FAILURE_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
]);

function isUnreachable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; depth++) {
    const { code, name, cause } = e as {
      code?: unknown;
      name?: unknown;
      cause?: unknown;
    };
    if (
      typeof code === 'string' &&
      (UNREACHABLE_SOCKET_CODES.has(code) || FETCH_FAILURE_CODES.has(code))
    )
      return true;
    if (name === 'TimeoutError' || name === 'AbortError') return true;
    e = cause;
  }
  return false;
}

/**
 * The catalog as the plugin's checks call it (instrument and owner lookups), with its outages told apart
 * from its answers. Creating or changing a task looks the instrument and owner up first; when the catalog
 * itself fails — its own database restarting (seen in the production rehearsal: 51 of 470 creations during a
 * PostgreSQL restart answered 500 with the catalog's error passed through), a 5xx, or no answer at all — the
 * request fails with 503 and Retry-After (see `unavailableHandler`): the client may retry, and the load
 * balancer's 5xx alarms see a dependency outage, not a fault in this plugin. A 4xx from the catalog (a
 * refused token, a bad ref) is not an outage and passes through unchanged. The catalog's own error (its
 * tables, its pool, its host) is logged here and not given to the client.
 */
export function catalogWithOutagesAsUnavailable(
  catalog: CatalogLookup,
  logger: LoggerService,
): CatalogLookup {
  const unavailable = (message: string, ref: string, error: unknown) => {
    logger.warn(`Catalog lookup of ${ref} failed: ${stringifyError(error)}`, {
      cause: ResponseError.is(error) ? stringifyError(error.cause) : undefined,
    });
    return new ServiceUnavailableError(message);
  };
  return {
    async getEntityByRef(ref, options) {
      try {
        return await catalog.getEntityByRef(ref, options);
      } catch (error) {
        if (ResponseError.is(error) && error.statusCode >= 500) {
          throw unavailable(
            `The catalog is unavailable (it answered ${error.statusCode}); retry shortly`,
            ref,
            error,
          );
        }
        if (isUnreachable(error)) {
          throw unavailable(
            'The catalog is unreachable; retry shortly',
            ref,
            error,
          );
        }
        throw error;
      }
    },
  };
}
