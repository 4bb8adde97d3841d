// Test harness: an OWN database and an OWN Redis key prefix per suite, removed at
// the end (the servers are shared with CI and other runs).
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Client, Pool } from 'pg';
import { createDatabaseIfMissing, dropDatabase, migrate } from '../postgres/migrate';
import { deletePrefix } from '../redis/queries';

export const PG_BASE = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';

export interface Harness {
  url: string;
  schema: string;
  pool: Pool;
  client: Client;
  redis: Redis;
  prefix: string;
  close(): Promise<void>;
}

export async function openHarness(schema = 'loyalty'): Promise<Harness> {
  const id = randomBytes(5).toString('hex');
  const u = new URL(PG_BASE);
  u.pathname = `/loyalty_test_${id}`;
  const url = u.toString();
  await createDatabaseIfMissing(url);
  await migrate({ connectionString: url, schema });
  // The database is dropped WITH (FORCE) at close: idle clients may still be closing.
  const pool = new Pool({ connectionString: url, max: 4 }).on('error', () => undefined);
  const client = new Client({ connectionString: url });
  await client.connect();
  const redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2 });
  const prefix = `loyalty_test_${id}:`;
  return {
    url, schema, pool, client, redis, prefix,
    async close() {
      await deletePrefix(redis, prefix).catch(() => undefined);
      redis.disconnect();
      await client.end().catch(() => undefined);
      await pool.end().catch(() => undefined);
      await dropDatabase(url);
    },
  };
}
