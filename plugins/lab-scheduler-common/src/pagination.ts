/**
 * Opaque keyset cursors: base64url of a small JSON tuple. Keyset (not offset) pagination keeps pages
 * free of duplicates and gaps while rows are inserted concurrently.
 */

/** @public */
export interface KeysetPosition {
  /** Sort key of the last item on the page (e.g. nextRunAt in ms, or a sequence number). */
  k: number;
  /** Tie-breaker: id of the last item on the page. */
  id: string;
}

function toBase64Url(text: string): string {
  const base64 =
    typeof btoa === 'function'
      ? btoa(unescape(encodeURIComponent(text)))
      : Buffer.from(text, 'utf8').toString('base64');
  return base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): string {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  return typeof atob === 'function'
    ? decodeURIComponent(escape(atob(base64)))
    : Buffer.from(base64, 'base64').toString('utf8');
}

/** @public */
export function encodeCursor(position: KeysetPosition): string {
  return toBase64Url(JSON.stringify([position.k, position.id]));
}

/** Ids in cursors are UUIDs or sequence numbers; anything else (a NUL, say) is a forged cursor. */
const CURSOR_ID = /^[0-9A-Za-z-]{1,64}$/;

/** Decodes a cursor, or returns undefined when it is malformed. @public */
export function decodeCursor(cursor: string): KeysetPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,500}$/.test(cursor)) {
    return undefined;
  }
  try {
    const value = JSON.parse(fromBase64Url(cursor));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isSafeInteger(value[0]) &&
      typeof value[1] === 'string' &&
      CURSOR_ID.test(value[1])
    ) {
      return { k: value[0], id: value[1] };
    }
  } catch {
    // fall through: malformed
  }
  return undefined;
}
