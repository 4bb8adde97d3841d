// Deterministic ids. Hashing is pure (no clock, no randomness), so a re-run of the
// same command yields the same ids and the same events.

import * as crypto from 'node:crypto';

const VARIANT = '89ab';

/** A name-based UUID (version 5 layout, SHA-1) derived from `name`. */
export function uuidFrom(name: string): string {
  // crypto.hash (Node >= 20.12) is one call instead of three objects: 3x faster per event id.
  const x = crypto.hash ? crypto.hash('sha1', name, 'hex') : crypto.createHash('sha1').update(name).digest('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-5${x.slice(13, 16)}-${VARIANT[parseInt(x[16], 16) & 3]}${x.slice(17, 20)}-${x.slice(20, 32)}`;
}

/** A fast 53-bit non-cryptographic hash (cyrb53), base 36. Used for request hashes. */
export function hash53(s: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/** Lot ids are `L<sequence of the event that opened the lot>`, unique within a member's stream. */
export function lotIdFor(sequence: number): string {
  return sequence < LOT_IDS.length ? LOT_IDS[sequence] : `L${sequence}`;
}

// The ids of the first lots of every stream, shared (not one string per member state).
const LOT_IDS: readonly string[] = Array.from({ length: 4096 }, (_, i) => `L${i}`);
