import type Redis from 'ioredis';
import { POSTGRES_PROJECTION } from '../postgres/postgres.projection';
import { getPostgresOffsets } from '../postgres/queries';
import type { Queryable } from '../postgres/sql';
import { getRedisOffsets } from '../redis/queries';
import { activeRedisPrefix } from '../replay/redis-pointer';

/** The next offset each read-model store will apply, per partition of the events topic. */
export async function readModelOffsets(
  pg: Queryable,
  redis: Redis,
  /** redisPrefix is the base prefix; the live one is found through its pointer. */
  q: { schema: string; redisPrefix: string; eventsTopic: string },
): Promise<{ postgres: Map<number, string>; redis: Map<number, string> }> {
  const [p, r] = await Promise.all([
    getPostgresOffsets(pg, { schema: q.schema, projection: POSTGRES_PROJECTION.name, topic: q.eventsTopic }),
    activeRedisPrefix(redis, q.redisPrefix).then((prefix) => getRedisOffsets(redis, { prefix })),
  ]);
  return {
    postgres: new Map(p.map((o) => [o.partition, o.nextOffset])),
    // A store that lost its marker counts as empty: its lag is the whole topic.
    redis: new Map(r.ready ? r.offsets.map((o) => [o.partition, o.nextOffset]) : []),
  };
}

/**
 * True when Redis has applied at least every event Postgres has, partition by partition:
 * then a member Redis does not know is unknown to Postgres too, and asking Postgres again
 * (the balance's fallback) would only cost it a query.
 */
export function redisHasAllOfPostgres(offsets: { postgres: Map<number, string>; redis: Map<number, string> }): boolean {
  for (const [partition, next] of offsets.postgres) {
    if (BigInt(offsets.redis.get(partition) ?? '0') < BigInt(next)) return false;
  }
  return true;
}
