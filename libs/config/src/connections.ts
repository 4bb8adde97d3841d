import type { PoolConfig } from 'pg';
import type { RedisOptions } from 'ioredis';
import type { AppConfig } from './config';

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
