import { randomBytes, randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(16 * 256);
let offset = pool.length;

/**
 * A UUID version 7 (RFC 9562): 48 bits of epoch milliseconds, then random bits. Run ids are created in
 * time order, so their primary-key index grows at its right edge instead of touching a random leaf page
 * per insert (fewer pages dirtied and written to the WAL on the claim path).
 */
export function timeOrderedUuid(nowMs: number = Date.now()): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + 16);
  offset += 16;
  bytes.writeUIntBE(nowMs, 0, 6);
  bytes[6] = (bytes[6] & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(
    12,
    16,
  )}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A fresh claim token: 96 random bits, so that no two claims of a run share one (see claim_tokens). */
export function newClaimToken(): string {
  return randomBytes(12).toString('base64url');
}
