import type { Pool, PoolConfig } from 'pg';
import type { RedisOptions } from 'ioredis';
import type { AppConfig } from './config';
import type { Logger } from './logger';

/** pg Pool settings from the validated configuration (TLS and password included). */
export function pgPoolConfig(c: AppConfig, overrides: Partial<PoolConfig> = {}): PoolConfig {
  return {
    connectionString: c.postgres.connectionString,
    ssl: c.postgres.ssl,
    max: c.postgres.poolMax,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
    application_name: 'loyalty',
    ...overrides,
  };
}

/** ioredis options from the validated configuration; the URL carries the password, rediss:// turns TLS on. */
export function redisOptions(c: AppConfig): RedisOptions {
  return {
    tls: c.redis.tls,
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(times * 200, 5000),
  };
}

/**
 * A pool's idle connection can fail (Postgres restarted, the connection was terminated):
 * pg then emits 'error' on the pool, which without a listener ends the process. The pool
 * drops that client and opens another on next use, so a warning is enough.
 */
export function survivePoolErrors<P extends Pool>(pool: P, logger?: Pick<Logger, 'warn'>): P {
  pool.on('error', (err) => logger?.warn('postgres: an idle connection failed; the pool replaces it', { error: err.message }));
  return pool;
}
