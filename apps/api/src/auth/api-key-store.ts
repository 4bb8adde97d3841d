// API keys stored hashed in Postgres (schema loyalty_auth, see infra/migrations/*_api-keys.sql).
// Used by the API's guard and by `loyalty keys`; no Nest here, only pg and crypto.
import * as crypto from 'node:crypto';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';

export const ROLES = ['reader', 'writer', 'analyst', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * CONTRACT: `reader` < `writer`, `analyst`, `operator` < `admin`. Writer, analyst and
 * operator each include reader; admin includes all; the three middle roles are apart.
 */
export function roleAllows(have: Role, need: Role): boolean {
  return have === 'admin' || have === need || need === 'reader';
}

export const KEY_TABLE = 'loyalty_auth.api_keys';
export const KEY_PREFIX = 'lk_';
export const NAME_MAX = 100;

/** A new key: `lk_` + 256 random bits in base64url (43 characters). */
export function generateKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

// crypto.hash (Node >= 20.12) hashes in one call, without a Hash object: 0.5 µs against 3-7
// for createHash on this machine, and the guard hashes the key of every request.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** hashKey(key) in hex (the guard's cache key). */
export function hashKeyHex(key: string): string {
  return oneShot ? oneShot('sha256', key, 'hex') : hashKey(key).toString('hex');
}

/** The non-secret hint shown by `keys list`: `lk_` and the next 6 characters (36 of 256 bits). */
export function keyHint(key: string): string {
  return key.slice(0, KEY_PREFIX.length + 6);
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

const iso = (v: Date | null) => (v ? v.toISOString() : null);
const toRecord = (r: any): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  role: r.role,
  prefix: r.prefix,
  createdAt: iso(r.created_at)!,
  revokedAt: iso(r.revoked_at),
  lastUsedAt: iso(r.last_used_at),
});

export class ApiKeyStore {
  constructor(private readonly pool: Pick<Pool, 'query'>) {}

  /** Creates a key; the clear key is returned here and never stored nor shown again. */
  async create(name: string, role: Role): Promise<{ key: string; record: ApiKeyRecord }> {
    if (!ROLES.includes(role)) throw new RangeError(`role must be one of ${ROLES.join(', ')}`);
    if (name.length < 1 || name.length > NAME_MAX) throw new RangeError(`name must be 1 to ${NAME_MAX} characters`);
    const key = generateKey();
    const { rows } = await this.pool.query(
      `INSERT INTO ${KEY_TABLE} (id, name, role, key_hash, prefix) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [randomUUID(), name, role, hashKey(key), keyHint(key)],
    );
    return { key, record: toRecord(rows[0]) };
  }

  async list(): Promise<ApiKeyRecord[]> {
    const { rows } = await this.pool.query(`SELECT * FROM ${KEY_TABLE} ORDER BY created_at, id`);
    return rows.map(toRecord);
  }

  /** Revokes a key; false when no such key, already revoked keys keep their first revocation time. */
  async revoke(id: string): Promise<ApiKeyRecord | null> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
    const { rows } = await this.pool.query(
      `UPDATE ${KEY_TABLE} SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING *`,
      [id],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** The active (not revoked) key with this hash, or null. */
  async findActive(hash: Buffer): Promise<{ id: string; name: string; role: Role } | null> {
    const { rows } = await this.pool.query(`SELECT id, name, role FROM ${KEY_TABLE} WHERE key_hash = $1 AND revoked_at IS NULL`, [hash]);
    return rows[0] ? { id: rows[0].id, name: rows[0].name, role: rows[0].role } : null;
  }

  async touch(id: string): Promise<void> {
    await this.pool.query(`UPDATE ${KEY_TABLE} SET last_used_at = now() WHERE id = $1`, [id]);
  }
}
